"use client";

import { useEffect, useRef, useState } from "react";
import type { RecentChange } from "../../origin/recent-changes";
import { formatClock } from "../format";
import { type LiveState, useLiveChanges } from "./live-changes";
import { RecentChangesList } from "./RecentChangesList";

/** The filters as the page's URL holds them (origin/http/recent-changes-query.ts reads the same words). */
export interface RecentChangesFields {
  prefix: string;
  user: string;
  hideadmins: boolean;
  hidebots: boolean;
}

function liveLabel(state: LiveState): string {
  switch (state.phase) {
    case "off":
      return "";
    case "live":
      return `Live · checked at ${formatClock(state.checkedAt)}`;
    case "failed":
      return `Live updates paused: ${state.problem}; trying again`;
    default:
      return state satisfies never;
  }
}

/**
 * Recent changes with their filters and live mode (issue 22). The filters
 * are a plain GET form, so the URL keeps them and a link or a reload shows
 * the same list; live mode is in the URL too (`live=1`), switched without a
 * reload.
 */
export function RecentChangesFeed(props: {
  fields: RecentChangesFields;
  initial: RecentChange[];
  /** The list's read API, with the same filters and limit. */
  apiPath: string;
  /** The ETag that API gives `initial`. */
  etag: string;
  live: boolean;
}) {
  const { fields } = props;
  const [live, setLive] = useState(props.live);
  const filtered = fields.prefix.trim() !== "" || fields.user.trim() !== "" || fields.hideadmins || fields.hidebots;
  const { changes, state } = useLiveChanges({ apiPath: props.apiPath, initial: props.initial, etag: props.etag, live });

  const liveBox = useRef<HTMLInputElement>(null);

  const switchLive = (on: boolean) => {
    setLive(on);
    const url = new URL(window.location.href);
    if (on) url.searchParams.set("live", "1");
    else url.searchParams.delete("live");
    // Next's router follows the native history calls: the URL changes, the page is not fetched again.
    window.history.replaceState(null, "", url);
  };

  // The box is the browser's own (uncontrolled), so that a click before the
  // page's script ran is kept rather than undone by hydration: taken up here.
  useEffect(() => {
    const checked = liveBox.current?.checked ?? props.live;
    if (checked !== props.live) switchLive(checked);
    // Once, on mount: later changes come through onChange.
  }, []);

  return (
    <>
      <form method="get" action="/recent-changes" className="change-filters" aria-label="Filter recent changes">
        <label>
          Page names starting with <input type="text" name="prefix" defaultValue={fields.prefix} />
        </label>
        <label>
          By user <input type="text" name="user" defaultValue={fields.user} />
        </label>
        <label>
          <input type="checkbox" name="hideadmins" value="1" defaultChecked={fields.hideadmins} /> Hide admins&apos; changes
        </label>
        <label>
          <input type="checkbox" name="hidebots" value="1" defaultChecked={fields.hidebots} /> Hide bots&apos; changes
        </label>
        <label>
          <input ref={liveBox} type="checkbox" name="live" value="1" defaultChecked={props.live} onChange={(event) => switchLive(event.target.checked)} />{" "}
          Live
        </label>
        <button type="submit">Show</button>
      </form>
      <p className="muted live-status" data-testid="live-status" aria-live="polite">
        {liveLabel(state)}
      </p>
      <RecentChangesList changes={changes} empty={filtered ? "No changes match these filters." : undefined} />
    </>
  );
}
