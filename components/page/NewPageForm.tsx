/** A title in, the page's editor out: /new?title= redirects to /wiki/<slug>/edit. */
export function NewPageForm({ title, error }: { title: string; error?: string }) {
  return (
    <form action="/new" method="get" className="account-form">
      <label>
        Title
        <input name="title" defaultValue={title} required maxLength={255} placeholder="The Red Wedding" />
      </label>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="button">
        Create page
      </button>
      <p className="muted small">
        Link to it from another page with <code>[[{title.trim() || "Its title"}]]</code>.
      </p>
    </form>
  );
}
