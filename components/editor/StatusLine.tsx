import type { StatusText } from "./status-text";

export function StatusLine({ text, problem }: { text: StatusText; problem?: string }) {
  return (
    <div className={`status-line tone-${text.tone}`} role="status" aria-live="polite" data-testid="status-line">
      <span className="dot" aria-hidden="true" />
      <span data-testid="status-connection">{text.connection}</span>
      {text.saving ? (
        <>
          <span className="sep" aria-hidden="true">
            ·
          </span>
          <span data-testid="status-saving">{text.saving}</span>
        </>
      ) : null}
      {problem && text.tone !== "ok" ? <span className="muted problem">({problem})</span> : null}
    </div>
  );
}
