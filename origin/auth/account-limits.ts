import type { AccountLimits } from "../config";
import { TooManyRequestsError } from "../errors";
import { Throttle } from "./throttle";

/**
 * The limits on guessing passwords and on making accounts. A name is counted
 * whether or not such an account exists, so that a 429 says nothing about
 * which names are taken.
 */
export class AccountGuard {
  private readonly failuresByName: Throttle;
  private readonly failuresByAddress: Throttle;
  private readonly registrationsByAddress: Throttle;

  constructor(limits: AccountLimits) {
    const loginWindowMs = limits.loginFailureWindowSeconds * 1000;
    this.failuresByName = new Throttle(limits.loginFailuresPerAccount, loginWindowMs);
    this.failuresByAddress = new Throttle(limits.loginFailuresPerAddress, loginWindowMs);
    this.registrationsByAddress = new Throttle(limits.registrationsPerAddress, limits.registrationWindowSeconds * 1000);
  }

  /** Before checking a password: refuses while the name or the address has failed too often. */
  checkLogin(nameKey: string, address: string): void {
    const byName = this.failuresByName.retryAfterSeconds(nameKey);
    const byAddress = this.failuresByAddress.retryAfterSeconds(address);
    if (byName > 0 || byAddress > 0) {
      const what = byName >= byAddress ? "this account" : "your address";
      throw new TooManyRequestsError(
        `too many failed logins for ${what}: wait ${Math.ceil(Math.max(byName, byAddress))} s and try again`,
        Math.max(byName, byAddress),
      );
    }
  }

  loginFailed(nameKey: string, address: string): void {
    this.failuresByName.record(nameKey);
    this.failuresByAddress.record(address);
  }

  /** The right password ends the account's count (not the address's: one address may be guessing many names). */
  loginSucceeded(nameKey: string): void {
    this.failuresByName.clear(nameKey);
  }

  /** Counts a registration attempt from `address`, or refuses it when the address has made too many. */
  register(address: string): void {
    const wait = this.registrationsByAddress.retryAfterSeconds(address);
    if (wait > 0) {
      throw new TooManyRequestsError(`too many accounts registered from your address: wait ${Math.ceil(wait)} s and try again`, wait);
    }
    this.registrationsByAddress.record(address);
  }
}
