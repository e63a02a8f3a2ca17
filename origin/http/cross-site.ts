import { ForbiddenError, UnsupportedMediaTypeError } from "../errors";
import type { Origin } from "../runtime";
import { clientOf, type ClientInfo } from "./client";

/**
 * Every state-changing request from a browser (POST, PUT, DELETE under
 * /api, but not the edges' internal endpoints, which need the service
 * secret) passes here first. An HTML form can send only text/plain,
 * urlencoded or multipart bodies and cannot set headers, and a page's script
 * sending `application/json` to another site needs a CORS preflight this
 * origin never grants: so requiring JSON keeps other sites' forms out, and
 * the `Origin` check also refuses sibling sites that SameSite=Lax treats as
 * "same site". Answers who the client is, for the handler's limits and cookie.
 */
export function requireOwnSiteJson(origin: Origin, request: Request): ClientInfo {
  const client = clientOf(request, origin.config.trustedProxies);
  const from = request.headers.get("origin");
  // No Origin: not a browser (curl, an edge, a test); browsers send it on every POST/PUT/DELETE.
  if (from !== null && from !== client.ownOrigin && !origin.config.allowedOrigins.includes(from)) {
    throw new ForbiddenError(
      `cross-site request refused: Origin ${JSON.stringify(from)} is neither this site (${client.ownOrigin}) nor listed in ORIGIN_ALLOWED_ORIGINS`,
    );
  }
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new UnsupportedMediaTypeError(
      `this endpoint takes a JSON body: send \`Content-Type: application/json\` (got ${mediaType ? JSON.stringify(mediaType) : "none"})`,
    );
  }
  return client;
}
