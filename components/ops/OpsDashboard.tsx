"use client";

import { useEffect, useMemo, useState } from "react";
import type { OpsSnapshot } from "../../origin/ops/snapshot-types";
import { ackedEditsChart, ackLatencyChart, dirtyPagesChart, originChart } from "./chart-data";
import { clock, count, factor, milliseconds, NONE, perSecond } from "./format";
import { LiveChart } from "./LiveChart";
import { PopPanel } from "./PopPanel";

/** Points kept in the browser: five minutes at one a second, as the server keeps. */
const MAX_POINTS = 300;

type Stream = "connecting" | "live" | "reconnecting";

/**
 * The live operations view: a `history` event fills the charts with the
 * last minutes, then a `snapshot` a second moves them (GET /api/ops/stream,
 * Server-Sent Events; EventSource reconnects by itself).
 */
export function OpsDashboard() {
  const [history, setHistory] = useState<OpsSnapshot[]>([]);
  const [stream, setStream] = useState<Stream>("connecting");

  useEffect(() => {
    const source = new EventSource("/api/ops/stream");
    source.addEventListener("open", () => setStream("live"));
    source.addEventListener("error", () => setStream("reconnecting"));
    source.addEventListener("history", (event) => setHistory((JSON.parse((event as MessageEvent<string>).data) as OpsSnapshot[]).slice(-MAX_POINTS)));
    source.addEventListener("snapshot", (event) => {
      const snapshot = JSON.parse((event as MessageEvent<string>).data) as OpsSnapshot;
      setHistory((previous) => [...previous.slice(-(MAX_POINTS - 1)), snapshot]);
    });
    return () => source.close();
  }, []);

  const latest = history.at(-1);
  const charts = useMemo(
    () => ({ acked: ackedEditsChart(history), latency: ackLatencyChart(history), origin: originChart(history), dirty: dirtyPagesChart(history) }),
    [history],
  );
  const replicas = latest?.pops.flatMap((pop) => pop.replicas) ?? [];

  return (
    <section className="ops" data-testid="ops">
      <h1>Operations</h1>
      <p className="muted small" data-testid="ops-status">
        {stream === "live" ? "Live" : stream === "connecting" ? "Connecting" : "Reconnecting"}
        {latest ? ` · ${replicas.filter((r) => r.state !== "gone").length} replicas in ${latest.pops.length} PoPs · updated ${clock(latest.at)}` : ""}
      </p>
      {latest && !latest.edgesKnown ? (
        <p className="notice">This origin hears no broker, so it knows no edges: set NATS_URL (self-hosted) or use npm start.</p>
      ) : null}

      <div className="ops-cards">
        <div className="ops-card">
          <span className="ops-card-label">edits acknowledged</span>
          <span className="ops-card-value" data-testid="ops-acked">
            {perSecond(latest?.acceptedPerSecond)}
          </span>
          <span className="muted small">per second, all PoPs</span>
        </div>
        <div className="ops-card">
          <span className="ops-card-label">ack latency p99</span>
          <span className="ops-card-value">
            {Object.values(latest?.ackLatency ?? {})
              .map((l) => milliseconds(l.p99))
              .join(" / ") || NONE}
          </span>
          <span className="muted small">{Object.keys(latest?.ackLatency ?? {}).length > 0 ? `at ${Object.keys(latest?.ackLatency ?? {}).join(" / ")}` : "no edits this second"}</span>
        </div>
        <div className="ops-card">
          <span className="ops-card-label">origin transactions</span>
          <span className="ops-card-value" data-testid="ops-origin-tx">
            {perSecond(latest?.origin.batchesPerSecond)}
          </span>
          <span className="muted small">per second</span>
        </div>
        <div className="ops-card">
          <span className="ops-card-label">batching factor</span>
          <span className="ops-card-value" data-testid="ops-batching">
            {factor(latest?.origin.batchingFactor)}
          </span>
          <span className="muted small">edits per origin transaction, last {Math.round(latest?.origin.batchingWindowSeconds ?? 30)} s</span>
        </div>
      </div>

      <div className="ops-charts">
        <LiveChart title="Edits acknowledged per second, by PoP" testId="ops-chart-acked" {...charts.acked} format={perSecond} />
        <LiveChart title="Ack latency p99, by durability" testId="ops-chart-latency" {...charts.latency} format={milliseconds} />
        <LiveChart title="Origin: transactions and pages merged per second" testId="ops-chart-origin" {...charts.origin} format={perSecond} />
        <LiveChart title="Unflushed pages, by PoP" testId="ops-chart-dirty" {...charts.dirty} format={count} />
      </div>

      <h2>Points of presence</h2>
      {latest?.pops.length === 0 ? <p className="muted">No edge has announced itself yet.</p> : null}
      {latest?.pops.map((pop) => <PopPanel key={pop.pop} pop={pop} />)}

      <h2>Origin</h2>
      <dl className="ops-facts" data-testid="ops-origin">
        <div>
          <dt>transactions</dt>
          <dd>{perSecond(latest?.origin.batchesPerSecond)}/s</dd>
        </div>
        <div>
          <dt>pages merged</dt>
          <dd>{perSecond(latest?.origin.pagesPerSecond)}/s</dd>
        </div>
        <div>
          <dt>edits merged</dt>
          <dd>{perSecond(latest?.origin.editsPerSecond)}/s</dd>
        </div>
        <div>
          <dt>merge p99</dt>
          <dd>{milliseconds(latest?.origin.mergeP99)}</dd>
        </div>
        <div>
          <dt>errors</dt>
          <dd>
            {perSecond(latest?.origin.errorsPerSecond)}/s ({count(latest?.origin.errorsTotal)} in all)
          </dd>
        </div>
      </dl>

      <h2>Hottest pages</h2>
      {latest && latest.hotPages.length > 0 ? (
        <div className="ops-table-wrap">
          <table className="ops-table" data-testid="ops-hot-pages">
            <thead>
              <tr>
                <th>page</th>
                <th>editors</th>
                <th>followers</th>
                <th>PoPs</th>
              </tr>
            </thead>
            <tbody>
              {latest.hotPages.map((page) => (
                <tr key={page.slug} data-testid="ops-hot-page" data-slug={page.slug}>
                  <td>
                    <a href={`/wiki/${encodeURIComponent(page.slug)}`}>{page.slug.replaceAll("_", " ")}</a>
                  </td>
                  <td>{count(page.editors)}</td>
                  <td>{count(page.followers)}</td>
                  <td>{page.pops.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="muted">Nobody is connected to a page.</p>
      )}
    </section>
  );
}
