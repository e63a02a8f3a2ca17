import { secretMatches } from "../../common/secret";
import { UnauthorizedError } from "../errors";
import type { Origin } from "../runtime";

/** Internal endpoints answer only an edge presenting the service secret as a bearer token. */
export function requireEdge(origin: Origin, request: Request): void {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer (.+)$/.exec(header);
  if (!match?.[1] || !secretMatches(match[1], origin.serviceSecret)) {
    throw new UnauthorizedError("internal endpoint: send the edge service secret as `Authorization: Bearer <secret>`");
  }
}
