/**
 * A page's body. `sanitizedHtml` must come from common/markdown.ts
 * (renderMarkdown), which is what makes setting it as HTML safe.
 */
export function PageBody({ sanitizedHtml }: { sanitizedHtml: string }) {
  return sanitizedHtml.trim() === "" ? (
    <p className="muted">This page is empty.</p>
  ) : (
    <div className="page-body" dangerouslySetInnerHTML={{ __html: sanitizedHtml }} />
  );
}
