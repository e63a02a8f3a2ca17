import { handleUnwatch, handleWatch, handleWatchState } from "@/origin/http/watchlist";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ slug: string }> };

export async function GET(request: Request, { params }: Context): Promise<Response> {
  return handleWatchState(await getOrigin(), request, await params);
}

export async function PUT(request: Request, { params }: Context): Promise<Response> {
  return handleWatch(await getOrigin(), request, await params);
}

export async function DELETE(request: Request, { params }: Context): Promise<Response> {
  return handleUnwatch(await getOrigin(), request, await params);
}
