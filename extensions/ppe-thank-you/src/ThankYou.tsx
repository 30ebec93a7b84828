// Thank-you page block (purchase.thank-you.block.render): the points this order earns, the shopper's
// referral link to copy, a welcome on a first order, and the store's one survey question (Survey.tsx).
// https://shopify.dev/docs/api/checkout-ui-extensions/latest/targets/thank-you
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { ApiError, call, numericId } from "../../ppe-shared/api";
import type { EarnPreview, OrderRewards, Referral } from "../../ppe-shared/api";
import { Survey } from "./Survey";

export default async () => {
  render(<ThankYou />, document.body);
};

interface Earned {
  points: number;
  pendingDays: number | null;
  pendingText: string | null; // the store's words for the wait (loyalty settings), else our translation
  state: OrderRewards["state"];
}

// The shopper's language, for the store's own wording (the server picks the store's text in it).
export function language(): string {
  return shopify.localization.language.value.isoCode;
}

// Our record of the order may not have arrived yet (webhooks trail the page): then the points come from the
// store's current earn rule for the order's total (GET /loyalty/earn-preview, the same rule the ledger applies).
// Only a logged-in buyer's token names a customer (`sub`): a guest's calls for the order or a referral link
// would only be refused, so they are not made.
function loggedIn(): boolean {
  return Boolean(shopify.buyerIdentity?.customer.value?.id);
}

async function earned(): Promise<Earned | null> {
  const orderId = numericId(shopify.orderConfirmation.value.order.id);
  if (orderId && loggedIn()) {
    try {
      const order = await call<OrderRewards>(shopify.sessionToken, `/orders/${orderId}/rewards`, {
        query: { locale: language() },
      });
      if (order.state !== "none") {
        return { points: order.points, pendingDays: null, pendingText: order.pending_text, state: order.state };
      }
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 401)) throw error;
    }
  }
  const total = shopify.cost.totalAmount.value;
  const preview = await call<EarnPreview>(shopify.sessionToken, "/loyalty/earn-preview", {
    query: {
      amount: total.amount.toFixed(2),
      currency: total.currencyCode,
      shop: shopify.shop.myshopifyDomain,
      locale: language(),
    },
  });
  if (preview.points <= 0) return null;
  return { points: preview.points, pendingDays: preview.pending_days, pendingText: preview.pending_text, state: "pending" };
}

async function referral(): Promise<Referral | null> {
  if (!loggedIn()) return null;
  try {
    return await call<Referral>(shopify.sessionToken, "/me/referral");
  } catch {
    return null; // referrals are off for the store
  }
}

function ThankYou() {
  const t = shopify.i18n.translate;
  const [points, setPoints] = useState<Earned | null | undefined>(undefined);
  const [link, setLink] = useState<Referral | null>(null);
  const [copied, setCopied] = useState(false);
  const firstOrder = shopify.orderConfirmation.value.isFirstOrder;

  useEffect(() => {
    earned().then(setPoints, () => setPoints(null));
    referral().then(setLink);
  }, []);

  if (points === undefined) return <s-spinner accessibilityLabel={t("loading")} />;
  return (
    <s-stack gap="base">
      {firstOrder && (
        <s-banner tone="success" heading={t("welcome.heading")}>
          <s-text>{t("welcome.body")}</s-text>
        </s-banner>
      )}
      {points && (
        <s-stack gap="small-200">
          <s-heading>{t("points.earned", { count: points.points })}</s-heading>
          <s-text color="subdued">
            {points.state === "pending" && points.pendingText
              ? points.pendingText
              : points.pendingDays !== null
                ? t("points.pending_days", { count: points.pendingDays })
                : t(`points.state.${points.state}`)}
          </s-text>
        </s-stack>
      )}
      {link && (
        <s-stack gap="small-200">
          <s-heading>{t("referral.heading")}</s-heading>
          <s-text>{t("referral.body")}</s-text>
          <s-text type="strong">{link.share_url}</s-text>
          <s-button commandFor="ppe-referral-link" onClick={() => setCopied(true)}>
            {copied ? t("referral.copied") : t("referral.copy")}
          </s-button>
          <s-clipboard-item id="ppe-referral-link" text={link.share_url} />
        </s-stack>
      )}
      {loggedIn() && <Survey />}
    </s-stack>
  );
}
