import { handleBlock, handleListBlocks } from "@/origin/http/blocks";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  return handleListBlocks(await getOrigin(), request);
}

export async function POST(request: Request): Promise<Response> {
  return handleBlock(await getOrigin(), request);
}
