// Order status page block in customer accounts (customer-account.order-status.block.render): this order's
// points and their state (the store's own words for the wait when it wrote some: loyalty settings
// pending_text), and "write a review" for its delivered products not reviewed yet: each opens the order's
// neutral review page (/r/order/<token>), where the shopper picks their own stars.
// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/targets/order-status
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { call, numericId } from "../../ppe-shared/api";
import type { OrderRewards } from "../../ppe-shared/api";

export default async () => {
  render(<OrderStatus />, document.body);
};

// Badge tones customer accounts offer: auto, neutral, critical.
const TONES = { pending: "neutral", spendable: "auto", reversed: "critical", none: "neutral" } as const;

function OrderStatus() {
  const t = shopify.i18n.translate;
  const [order, setOrder] = useState<OrderRewards | null | undefined>(undefined);

  useEffect(() => {
    const id = numericId(shopify.order.value?.id ?? "");
    if (!id) return setOrder(null);
    call<OrderRewards>(shopify.sessionToken, `/orders/${id}/rewards`, {
      query: { shop: shopify.shop.myshopifyDomain, locale: shopify.localization.language.value.isoCode },
    }).then(setOrder, () => setOrder(null));
  }, []);

  if (order === undefined) return <s-spinner accessibilityLabel={t("loading")} />;
  if (order === null || (order.state === "none" && order.reviews.length === 0)) return null;
  const when = order.spendable_at ? shopify.i18n.formatDate(new Date(order.spendable_at)) : null;
  return (
    <s-section heading={t("heading")}>
      <s-stack gap="base">
        {order.state !== "none" && (
          <s-stack direction="inline" gap="small-200" alignItems="center">
            <s-text type="strong">{t("points", { count: order.points })}</s-text>
            <s-badge tone={TONES[order.state]}>{t(`state.${order.state}`)}</s-badge>
          </s-stack>
        )}
        {order.state === "pending" && (
          <s-text color="subdued">
            {when ? t("pending_until", { date: when }) : (order.pending_text ?? t("pending_delivery"))}
          </s-text>
        )}
        {order.reviews.map((item) => (
          <s-stack key={item.product_id} direction="inline" gap="small-200" alignItems="center">
            <s-text>{item.title}</s-text>
            <s-button href={item.review_url} target="_blank" variant="secondary">
              {t("review")}
            </s-button>
          </s-stack>
        ))}
      </s-stack>
    </s-section>
  );
}
