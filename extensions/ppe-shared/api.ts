// Our storefront API as the UI extensions call it: https://<APP_URL>/api/v1/..., authenticated with the
// session token Shopify gives the extension (shopify.sessionToken.get(), a fresh or cached one per call, as
// Shopify asks). The server checks it (app/storefront/extension_token.py) and answers with CORS "*".
// https://shopify.dev/docs/api/checkout-ui-extensions/latest/target-apis/platform-apis/session-token-api

// The deployment's APP_URL, like the URLs in shopify.app.toml. The build (scripts/build_extensions.py) may
// define PPE_API_URL; Shopify CLI's build defines nothing, so the constant below is used.
declare const PPE_API_URL: string | undefined;
export const API_URL: string = typeof PPE_API_URL === "string" ? PPE_API_URL : "https://app.example.com";

export interface TokenSource {
  get(): Promise<string>;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(code);
  }
}

export interface CallOptions {
  method?: "GET" | "POST";
  body?: unknown;
  query?: Record<string, string>;
  idempotencyKey?: string;
  fresh?: boolean; // Cache-Control: no-cache, the read right after our own write (app/storefront/guard.py)
}

export async function call<T>(tokens: TokenSource, path: string, options: CallOptions = {}): Promise<T> {
  const token = await tokens.get();
  const query = options.query ? "?" + new URLSearchParams(options.query).toString() : "";
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  if (options.fresh) headers["Cache-Control"] = "no-cache";
  const response = await fetch(`${API_URL}/api/v1${path}${query}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const data = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) throw new ApiError(response.status, data.error ?? "error");
  return data as T;
}

// The numeric id of a Shopify GID: our records keep the platform's numeric ids. The Order status page's
// `order.id` is an Order GID ("@example 'gid://shopify/Order/1'",
// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/order-apis/order-api); the
// Thank-you page's `orderConfirmation.order.id` is the OrderConfirmation's GID, "the ID of the Order once
// successfully created" (https://shopify.dev/docs/api/checkout-ui-extensions/latest/target-apis/checkout-apis/order-api),
// seen as gid://shopify/OrderIdentity/<id>: its numeric part is the order's id either way.
export function numericId(gid: string): string {
  const tail = gid.split("/").pop() ?? "";
  return /^[0-9]+$/.test(tail) ? tail : "";
}

export interface OrderRewards {
  order_id: string;
  points: number;
  state: "pending" | "spendable" | "reversed" | "none";
  spendable_at: string | null;
  pending_text: string | null; // the store's own wording of the pending state, null: the extension's translation
  first_order: boolean;
  reviews: { product_id: string; title: string; review_url: string }[];
}

export interface EarnPreview {
  points: number;
  currency: string;
  pending_days: number;
  pending_text: string | null; // the store's own wording (loyalty settings), null: the extension's translation
}

// GET|POST /orders/<id>/survey (app/surveys/storefront.py): the store's one question for this order.
export interface OrderSurvey {
  enabled: boolean;
  kind: "nps" | "csat" | null;
  low: number | null;
  high: number | null;
  answered: boolean;
  score: number | null;
  group: "promoter" | "passive" | "detractor" | null;
  stored?: boolean;
  review_url?: string | null;
  referral_url?: string | null;
}

// GET /me/referral/results (app/referrals/storefront.py): what the customer's link brought.
export interface ReferralResults {
  invited: number;
  joined: number;
  ordered: number;
  rewarded: number;
  rewards: { kind: "points" | "discount_code"; points: number | null; code: string | null; at: string }[];
}

export interface Progress {
  tier: string;
  basis: "points_earned" | "amount_spent";
  threshold: string;
  current: string;
  remaining: string;
  currency: string | null;
}

export interface Balance {
  pending: number;
  spendable: number;
  expiring_30d: number;
  tier: string | null;
  progress: Progress | null;
}

export interface Reward {
  id: string;
  type: string;
  points: number;
  value: string | null;
  currency: string | null;
}

export interface Redemption {
  id: number;
  status: "pending" | "issued" | "failed" | "used" | "refunded";
  points: number;
  reward_id: string;
  code: string | null;
}

export interface Referral {
  code: string;
  share_url: string;
}

export interface Activity {
  kind: string;
  points: number;
  at: string;
}
