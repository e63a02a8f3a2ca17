import { formatClock, plural } from "../format";
import type { ProviderStatus } from "./provider";

export type StatusTone = "ok" | "busy" | "warn" | "error";

export interface StatusText {
  /** Where the editor is connected, or that it is not. */
  connection: string;
  /** How far the user's edits have travelled. */
  saving: string;
  tone: StatusTone;
}

/**
 * The status line, in words a person reads at a glance (issue 4):
 * "Connected to us-east · replica us-east-a", "Saved at the edge",
 * "Saved to the wiki at 18:02:11", "Offline — 3 edits waiting".
 */
export function describeStatus(status: ProviderStatus, savedToWikiAt: Date | undefined): StatusText {
  const waiting = status.unacknowledgedEdits;
  let connection: string;
  let tone: StatusTone = "ok";
  switch (status.phase) {
    case "connecting":
      connection = `Connecting to ${status.pop ?? "an edge"}…`;
      tone = "busy";
      break;
    case "connected":
      connection = `Connected to ${status.pop ?? "an edge"}${status.replica ? ` · replica ${status.replica}` : ""}`;
      if (!status.synced) tone = "busy";
      break;
    case "offline":
      connection = waiting > 0 ? `Offline — ${plural(waiting, "edit")} waiting` : "Offline — reconnecting";
      tone = "warn";
      break;
    case "failed":
      connection = `Disconnected: ${status.problem ?? "the edge closed the connection"}`;
      tone = "error";
      break;
    case "stopped":
      connection = "Closed";
      tone = "warn";
      break;
    default:
      status.phase satisfies never;
      connection = "";
  }

  let saving: string;
  if (status.denied !== undefined || status.canWrite === false) {
    saving = `Read-only${status.denied ? `: ${status.denied}` : ""}`;
    if (tone === "ok") tone = "warn";
  } else if (waiting > 0) {
    saving = status.phase === "connected" ? `Saving ${plural(waiting, "edit")}…` : "Not saved yet";
    if (tone === "ok") tone = "busy";
  } else if (savedToWikiAt) {
    saving = `Saved to the wiki at ${formatClock(savedToWikiAt)}`;
  } else if (status.acknowledgedAt.pop !== undefined) {
    saving = "Saved at the edge · in the PoP's log";
  } else if (status.acknowledgedAt.edge !== undefined) {
    saving = "Saved at the edge";
  } else {
    saving = status.synced ? "No changes yet" : "";
  }
  return { connection, saving, tone };
}
