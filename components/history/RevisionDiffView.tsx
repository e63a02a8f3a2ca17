import { plural } from "../format";
import { type DiffBlock, type DiffSegment, diffRevisions } from "./diff";

// Unchanged lines shown around a change; longer unchanged runs are folded.
const CONTEXT_LINES = 3;

function Segments({ segments, marked }: { segments: DiffSegment[]; marked: "added" | "removed" }) {
  return segments.map((segment, index) =>
    segment.change === marked ? (
      marked === "added" ? (
        <ins key={index}>{segment.text}</ins>
      ) : (
        <del key={index}>{segment.text}</del>
      )
    ) : (
      <span key={index}>{segment.text}</span>
    ),
  );
}

function Unchanged({ lines, first, last }: { lines: string[]; first: boolean; last: boolean }) {
  const head = first ? 0 : CONTEXT_LINES;
  const tail = last ? 0 : CONTEXT_LINES;
  if (lines.length <= head + tail + 1) {
    return <div className="diff-same">{lines.join("\n")}</div>;
  }
  return (
    <>
      {head > 0 ? <div className="diff-same">{lines.slice(0, head).join("\n")}</div> : null}
      <div className="diff-fold">⋯ {plural(lines.length - head - tail, "unchanged line")}</div>
      {tail > 0 ? <div className="diff-same">{lines.slice(-tail).join("\n")}</div> : null}
    </>
  );
}

function Block({ block, first, last }: { block: DiffBlock; first: boolean; last: boolean }) {
  switch (block.kind) {
    case "same":
      return <Unchanged lines={block.lines} first={first} last={last} />;
    case "removed":
      return (
        <div className="diff-removed" aria-label="removed">
          <del>{block.lines.join("\n")}</del>
        </div>
      );
    case "added":
      return (
        <div className="diff-added" aria-label="added">
          <ins>{block.lines.join("\n")}</ins>
        </div>
      );
    case "changed":
      return (
        <>
          {block.before.length > 0 ? (
            <div className="diff-removed" aria-label="before">
              <Segments segments={block.before} marked="removed" />
            </div>
          ) : null}
          {block.after.length > 0 ? (
            <div className="diff-added" aria-label="after">
              <Segments segments={block.after} marked="added" />
            </div>
          ) : null}
        </>
      );
    default:
      block satisfies never;
      return null;
  }
}

/** Two revisions' texts compared, lines and words, as <del> and <ins>. */
export function RevisionDiffView({ before, after }: { before: string; after: string }) {
  const diff = diffRevisions(before, after);
  if (diff.linesAdded === 0 && diff.linesRemoved === 0) {
    return <p className="muted">The two revisions hold the same text.</p>;
  }
  return (
    <>
      <p className="diff-summary">
        <span className="added-count">+{plural(diff.linesAdded, "line")}</span>{" "}
        <span className="removed-count">−{plural(diff.linesRemoved, "line")}</span>
      </p>
      <div className="diff" data-testid="diff">
        {diff.blocks.map((block, index) => (
          <Block key={index} block={block} first={index === 0} last={index === diff.blocks.length - 1} />
        ))}
      </div>
    </>
  );
}
