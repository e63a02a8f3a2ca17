import { describe, expect, it } from "vitest";
import { parseRedirect } from "./redirect";

describe("redirect pages", () => {
  it("start with #REDIRECT [[Target]] in any case, as MediaWiki's", () => {
    expect(parseRedirect("#REDIRECT [[The red wedding]]")).toEqual({ target: "The_red_wedding", rest: "" });
    expect(parseRedirect("  #redirect[[kingslayer]]\n\nJaime's old name.")).toEqual({ target: "Kingslayer", rest: "\n\nJaime's old name." });
    expect(parseRedirect("#Redirect: [[Jon Snow|Jon]]")?.target).toBe("Jon_Snow");
    expect(parseRedirect("#REDIRECT [[Winterfell#Crypts]]")?.target).toBe("Winterfell");
  });

  it("are not pages that only mention a redirect, or name no valid title", () => {
    expect(parseRedirect("See #REDIRECT [[Target]]")).toBeNull();
    expect(parseRedirect("# REDIRECT [[Target]]")).toBeNull();
    expect(parseRedirect("#REDIRECT Target")).toBeNull();
    expect(parseRedirect("#REDIRECT [[   ]]")).toBeNull();
    expect(parseRedirect("#REDIRECTION [[Target]]")).toBeNull();
  });
});
