import { describe, expect, it } from "vitest";
import { MAX_SLUG_BYTES } from "../common/slug";
import { MOVED_TO_A_LONG_NAME, movedCloseReason, movedToOf } from "./moved-page";

const bytes = (text: string) => new TextEncoder().encode(text).byteLength;

describe("the 4411 close reason", () => {
  it("names the new name whenever it fits a close frame, and otherwise names no page, never a cut one", () => {
    // "this page was moved to " is 23 bytes: names of up to 100 fit, longer ones (slugs hold 255) do not.
    for (const length of [1, 99, 100, 101, 200, MAX_SLUG_BYTES]) {
      const to = "W".repeat(length);
      const reason = movedCloseReason(to);
      expect(bytes(reason)).toBeLessThanOrEqual(123);
      expect(movedToOf(reason)).toBe(length <= 100 ? to : undefined);
      if (length > 100) expect(reason).toBe(MOVED_TO_A_LONG_NAME);
    }
    // Counted in bytes: 34 three-byte characters are 102.
    expect(movedToOf(movedCloseReason("鴉".repeat(33)))).toBe("鴉".repeat(33));
    expect(movedToOf(movedCloseReason("鴉".repeat(34)))).toBeUndefined();
  });
});
