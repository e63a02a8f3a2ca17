import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { OpsDashboard } from "@/components/ops/OpsDashboard";
import { currentViewer } from "../viewer";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Operations" };

/** /ops: the live operations view, admins only (issue 9). The figures arrive over /api/ops/stream. */
export default async function OpsPage() {
  const viewer = await currentViewer();
  if (viewer?.role !== "admin") forbidden();
  return <OpsDashboard />;
}
