"use client";

import { useEffect } from "react";

/**
 * After a redirect was followed in place, the address bar names the page
 * shown, as MediaWiki does: a reload, a bookmark or a copied link then reads
 * the target itself. The HTML stays the one cached for the redirect's URL.
 */
export function TargetAddress({ href }: { href: string }) {
  useEffect(() => {
    // Next's router follows the native history calls.
    window.history.replaceState(null, "", `${href}${window.location.hash}`);
  }, [href]);
  return null;
}
