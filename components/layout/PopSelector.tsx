"use client";

import { useEffect, useState } from "react";
import { choosePop, fetchEdges, popsOf, readPopCookie, writePopCookie } from "../edges";

/**
 * Which PoP this browser writes through. In real life the nearest; here the
 * reader picks it. Kept in a cookie; defaults to the first PoP the origin lists.
 */
export function PopSelector() {
  const [pops, setPops] = useState<string[] | null>(null);
  const [pop, setPop] = useState<string | undefined>();

  useEffect(() => {
    let cancelled = false;
    fetchEdges()
      .then((edges) => {
        if (cancelled) return;
        setPops(popsOf(edges));
        setPop(choosePop(edges, readPopCookie()));
      })
      .catch(() => !cancelled && setPops([]));
    return () => {
      cancelled = true;
    };
  }, []);

  if (pops === null) return null;
  if (pops.length === 0) {
    return (
      <span className="pop muted" title="The origin lists no edges" data-testid="pop">
        no edge
      </span>
    );
  }
  return (
    <label className="pop" title="The point of presence your edits go through">
      <span className="visually-hidden">PoP</span>
      <select
        value={pop}
        data-testid="pop-select"
        onChange={(event) => {
          setPop(event.target.value);
          writePopCookie(event.target.value);
        }}
      >
        {pops.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
