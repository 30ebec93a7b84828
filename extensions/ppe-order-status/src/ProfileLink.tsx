// A block on the customer's profile (customer-account.profile.block.render) that leads to the Rewards page,
// the full-page extension ppe-rewards-page, by its handle: `extension://<handle>` is the Navigation API's
// protocol for navigating to a different installed extension.
// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/platform-apis/navigation-api
// Merchants may also add the page to the customer account menu: the checkout and accounts editor offers it
// when the page is added (https://shopify.dev/docs/api/customer-account-ui-extensions/latest/targets/full-page).
// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/targets/profile-page-default
import "@shopify/ui-extensions/preact";
import { render } from "preact";

export default async () => {
  render(<ProfileLink />, document.body);
};

function ProfileLink() {
  const t = shopify.i18n.translate;
  return (
    <s-section heading={t("profile.heading")}>
      <s-stack gap="small-200">
        <s-text>{t("profile.body")}</s-text>
        <s-button href="extension://ppe-rewards-page">{t("profile.open")}</s-button>
      </s-stack>
    </s-section>
  );
}
