// The Rewards page in customer accounts (customer-account.page.render, a full page in an extension of its
// own): balance, tier and progress, rewards to redeem (the code to copy), recent activity, the referral link
// and what it brought (GET /me/referral/results: friends invited, joined, ordered; rewards earned).
// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/targets/full-page
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { call } from "../../ppe-shared/api";
import type { Activity, Balance, Redemption, Referral, ReferralResults, Reward } from "../../ppe-shared/api";

export default async () => {
  render(<RewardsPage />, document.body);
};

interface Loaded {
  balance: Balance;
  rewards: Reward[];
  activity: Activity[];
  referral: Referral | null;
  results: ReferralResults | null;
}

const tokens = () => shopify.sessionToken;

async function load(fresh = false): Promise<Loaded> {
  const [balance, rewards, activity, referral, results] = await Promise.all([
    call<Balance>(tokens(), "/me/balance", { fresh }),
    call<{ rewards: Reward[] }>(tokens(), "/rewards"),
    call<{ activity: Activity[] }>(tokens(), "/me/activity"),
    call<Referral>(tokens(), "/me/referral").catch(() => null),
    call<ReferralResults>(tokens(), "/me/referral/results", { fresh }).catch(() => null), // referrals off: none
  ]);
  return { balance, rewards: rewards.rewards, activity: activity.activity.slice(0, 10), referral, results };
}

// A redemption answers at once or is issued by a job moments later (it creates the discount code at Shopify):
// ask again, for up to about a minute, until the code is there.
async function redeem(reward: Reward, key: string): Promise<Redemption> {
  let redemption = await call<Redemption>(tokens(), "/me/redemptions", {
    method: "POST",
    body: { reward_id: reward.id, idempotency_key: key },
    idempotencyKey: key,
  });
  for (let attempt = 0; redemption.status === "pending" && attempt < 60; attempt++) {
    await new Promise((done) => setTimeout(done, attempt < 10 ? 500 : 1000));
    redemption = await call<Redemption>(tokens(), `/me/redemptions/${redemption.id}`, { fresh: true });
  }
  return redemption;
}

function RewardsPage() {
  const t = shopify.i18n.translate;
  const [data, setData] = useState<Loaded | null>(null);
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [issued, setIssued] = useState<Redemption | null>(null);

  useEffect(() => {
    load().then(setData, () => setFailed(true));
  }, []);

  async function onRedeem(reward: Reward) {
    setBusy(reward.id);
    try {
      setIssued(await redeem(reward, crypto.randomUUID()));
      setData(await load(true));
    } catch {
      setFailed(true);
    } finally {
      setBusy(null);
    }
  }

  if (failed && !data) return <s-page heading={t("heading")}><s-banner tone="critical">{t("error")}</s-banner></s-page>;
  if (!data) return <s-page heading={t("heading")}><s-spinner accessibilityLabel={t("loading")} /></s-page>;
  const { balance, rewards, activity, referral, results } = data;
  const progress = balance.progress;
  return (
    <s-page heading={t("heading")}>
      <s-stack gap="large">
        <s-section heading={t("balance.heading")}>
          <s-stack gap="small-200">
            <s-heading>{t("balance.spendable", { count: balance.spendable })}</s-heading>
            {balance.pending > 0 && <s-text color="subdued">{t("balance.pending", { count: balance.pending })}</s-text>}
            {balance.tier && <s-badge>{t("tier.current", { tier: balance.tier })}</s-badge>}
            {progress && (
              <s-stack gap="small-100">
                <s-progress value={Number(progress.current)} max={Number(progress.threshold)} accessibilityLabel={t("tier.progress_label")} />
                <s-text>{t("tier.remaining", { remaining: progress.remaining, tier: progress.tier })}</s-text>
              </s-stack>
            )}
          </s-stack>
        </s-section>
        {issued && issued.code && (
          <s-banner tone="success" heading={t("redeem.done")}>
            <s-stack gap="small-200">
              <s-text type="strong">{issued.code}</s-text>
              <s-button commandFor="ppe-code">{t("redeem.copy")}</s-button>
              <s-clipboard-item id="ppe-code" text={issued.code} />
            </s-stack>
          </s-banner>
        )}
        {failed && <s-banner tone="critical">{t("error")}</s-banner>}
        <s-section heading={t("rewards.heading")}>
          <s-stack gap="base">
            {rewards.length === 0 && <s-text>{t("rewards.none")}</s-text>}
            {rewards.map((reward) => (
              <s-stack key={reward.id} direction="inline" gap="base" alignItems="center" justifyContent="space-between">
                <s-text>{describe(reward)}</s-text>
                <s-button
                  variant="primary"
                  disabled={busy !== null || balance.spendable < reward.points}
                  loading={busy === reward.id}
                  onClick={() => onRedeem(reward)}
                >
                  {t("rewards.redeem", { count: reward.points })}
                </s-button>
              </s-stack>
            ))}
          </s-stack>
        </s-section>
        {referral && (
          <s-section heading={t("referral.heading")}>
            <s-stack gap="small-200">
              <s-text>{t("referral.body")}</s-text>
              <s-text type="strong">{referral.share_url}</s-text>
              <s-button commandFor="ppe-referral">{t("referral.copy")}</s-button>
              <s-clipboard-item id="ppe-referral" text={referral.share_url} />
              {results && (
                <s-stack gap="small-100">
                  <s-heading>{t("referral.results.heading")}</s-heading>
                  <s-stack direction="inline" gap="base">
                    <s-text>{t("referral.results.invited", { count: results.invited })}</s-text>
                    <s-text>{t("referral.results.joined", { count: results.joined })}</s-text>
                    <s-text>{t("referral.results.ordered", { count: results.ordered })}</s-text>
                  </s-stack>
                  <s-text type="strong">{t("referral.results.rewarded", { count: results.rewarded })}</s-text>
                  {results.rewards.map((reward, index) => (
                    <s-stack key={index} direction="inline" gap="base" justifyContent="space-between">
                      <s-text>
                        {reward.kind === "points"
                          ? t("referral.results.points", { count: reward.points ?? 0 })
                          : reward.code
                            ? t("referral.results.code", { code: reward.code })
                            : t("referral.results.code_pending")}
                      </s-text>
                      <s-text color="subdued">{shopify.i18n.formatDate(new Date(reward.at))}</s-text>
                    </s-stack>
                  ))}
                </s-stack>
              )}
            </s-stack>
          </s-section>
        )}
        <s-section heading={t("activity.heading")}>
          <s-stack gap="small-200">
            {activity.length === 0 && <s-text>{t("activity.none")}</s-text>}
            {activity.map((row, index) => (
              <s-stack key={index} direction="inline" gap="base" justifyContent="space-between">
                <s-text>{t(`activity.kind.${row.kind}`)}</s-text>
                <s-text>{shopify.i18n.formatDate(new Date(row.at))}</s-text>
                <s-text type="strong">{row.points > 0 ? `+${row.points}` : String(row.points)}</s-text>
              </s-stack>
            ))}
          </s-stack>
        </s-section>
      </s-stack>
    </s-page>
  );

  function describe(reward: Reward): string {
    if (reward.type === "free_shipping") return t("rewards.free_shipping");
    if (reward.type === "percentage") return t("rewards.percentage", { value: reward.value ?? "" });
    const amount = reward.value ? shopify.i18n.formatCurrency(Number(reward.value), { currency: reward.currency ?? undefined }) : "";
    return t("rewards.fixed_amount", { value: amount });
  }
}
