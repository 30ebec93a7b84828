// The global `shopify` of this target's module, as Shopify CLI declares it.
import "@shopify/ui-extensions";

//@ts-ignore
declare module "./src/RewardsPage.tsx" {
  const shopify: import("@shopify/ui-extensions/customer-account.page.render").Api;
  const globalThis: { shopify: typeof shopify };
}
