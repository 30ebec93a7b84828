// A block on the customer's profile (customer-account.profile.block.render) that leads to the Rewards page,
// the full-page extension ppe-rewards-page.
// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/targets/profile-default
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
        <s-button href="extension:ppe-rewards-page/">{t("profile.open")}</s-button>
      </s-stack>
    </s-section>
  );
}
