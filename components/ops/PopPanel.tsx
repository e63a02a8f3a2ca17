import type { PopView, ReplicaView } from "../../origin/ops/snapshot-types";
import { age, bytes, count, milliseconds, NONE, perSecond } from "./format";

function ReplicaState({ replica }: { replica: ReplicaView }) {
  if (replica.state === "gone") return <span className="ops-state ops-gone">gone</span>;
  if (!replica.reachable) {
    return (
      <span className="ops-state ops-unreachable" title={replica.error}>
        unreachable
      </span>
    );
  }
  return <span className={`ops-state ops-${replica.state}`}>{replica.state}</span>;
}

function latency(replica: ReplicaView): string {
  const entries = Object.entries(replica.figures?.ackLatency ?? {});
  if (entries.length === 0) return NONE;
  return entries.map(([level, l]) => `${level} ${milliseconds(l.p50)} / ${milliseconds(l.p99)}`).join(" · ");
}

function memory(replica: ReplicaView): string {
  if (!replica.figures) return NONE;
  // The embedded default runs every replica in one process: only the first reports it.
  return replica.figures.rssBytes === undefined ? "shared process" : bytes(replica.figures.rssBytes);
}

/** One PoP: what waits for the origin, and each replica from live membership. */
export function PopPanel({ pop }: { pop: PopView }) {
  return (
    <section className="ops-pop" data-testid="ops-pop" data-pop={pop.pop}>
      <h3>{pop.pop}</h3>
      <dl className="ops-facts">
        <div>
          <dt>edits acknowledged</dt>
          <dd>{perSecond(pop.acceptedPerSecond)}/s</dd>
        </div>
        <div>
          <dt>refused</dt>
          <dd>{perSecond(pop.refusedPerSecond)}/s</dd>
        </div>
        <div>
          <dt>unflushed pages</dt>
          <dd data-testid="ops-dirty-pages">{count(pop.dirtyPages)}</dd>
        </div>
        <div>
          <dt>unflushed bytes</dt>
          <dd>{bytes(pop.dirtyBytes)}</dd>
        </div>
        <div>
          <dt>last flush acknowledged</dt>
          <dd>{age(pop.secondsSinceFlush)}</dd>
        </div>
        <div>
          <dt>PoP log backlog</dt>
          <dd>{pop.logBacklog === undefined ? "not at pop" : count(pop.logBacklog)}</dd>
        </div>
      </dl>
      <div className="ops-table-wrap">
        <table className="ops-table">
          <thead>
            <tr>
              <th>replica</th>
              <th>state</th>
              <th>connections</th>
              <th>pages</th>
              <th>acked/s</th>
              <th>refused/s</th>
              <th>ack p50 / p99</th>
              <th>memory</th>
              <th>broker RTT</th>
            </tr>
          </thead>
          <tbody>
            {pop.replicas.map((replica) => (
              <tr key={replica.replica} data-testid="ops-replica" data-replica={replica.replica} data-state={replica.state} data-reachable={String(replica.reachable)}>
                <td>
                  <code>{replica.replica}</code>
                </td>
                <td>
                  <ReplicaState replica={replica} />
                </td>
                <td>{count(replica.figures?.connections)}</td>
                <td>{count(replica.figures?.pagesHeld)}</td>
                <td>{perSecond(replica.figures?.acceptedPerSecond)}</td>
                <td>{perSecond(replica.figures?.refusedPerSecond)}</td>
                <td className="ops-nowrap">{latency(replica)}</td>
                <td>{memory(replica)}</td>
                <td>{milliseconds(replica.figures?.brokerRttSeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
