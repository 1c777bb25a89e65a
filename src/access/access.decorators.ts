import { SetMetadata } from '@nestjs/common';

/** Route metadata read by the access guard. A route without any is for admin keys only (fail closed). */
export type RouteAccess =
  | { readonly public: true }
  /** The route touches the AoR in this path parameter (`param`) or query parameter (`query`). */
  | { readonly public?: false; readonly param: string }
  | { readonly public?: false; readonly query: string };

export const ROUTE_ACCESS = 'presence-hub:route-access';

/** Open to anyone, also with auth.enabled (health; content URLs that carry their own token). */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(ROUTE_ACCESS, { public: true });

/**
 * The route acts for the AoR in path parameter `param`: an admin key may use it for any AoR, a user key for its
 * own only (403 otherwise).
 */
export const ForAorParam = (param = 'aor'): ClassDecorator & MethodDecorator => SetMetadata(ROUTE_ACCESS, { param });

/**
 * A list filtered by the AoR in query parameter `query`: a user key must give its own AoR there (403 without
 * it or with another); an admin key may leave it out.
 */
export const ForAorQuery = (query: string): ClassDecorator & MethodDecorator => SetMetadata(ROUTE_ACCESS, { query });
