// The store's one post-purchase question on the Thank-you page (NPS 0-10 or CSAT 1-5, the store's survey
// settings), for a logged-in buyer's order: GET|POST /orders/<id>/survey (app/surveys/storefront.py), which
// stores the answer once per order and leads where the e-mail survey's answer does (a promoter is asked for a
// review and shown their link; a detractor's answer reaches the shop). The extension's storage remembers the
// order was answered, so a reload of the page asks nothing and calls nothing.
// Storage API: https://shopify.dev/docs/api/checkout-ui-extensions/latest/target-apis/platform-apis/storage-api
// (key-value, JSON values, scoped to this extension; persistence is not guaranteed, hence the server's answer
// stays the truth: an order answered elsewhere comes back as `answered`).
import "@shopify/ui-extensions/preact";
import { useEffect, useState } from "preact/hooks";

import { ApiError, call, numericId } from "../../ppe-shared/api";
import type { OrderSurvey } from "../../ppe-shared/api";

interface Remembered {
  score: number;
  group: OrderSurvey["group"];
  review_url?: string | null;
}

const key = (orderId: string) => `ppe-survey:${orderId}`;
const ATTEMPTS = 4; // our record of the order may trail the page by a few seconds (the webhook)

async function question(orderId: string): Promise<OrderSurvey | null> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await call<OrderSurvey>(shopify.sessionToken, `/orders/${orderId}/survey`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404 || attempt === ATTEMPTS - 1) return null;
      await new Promise((done) => setTimeout(done, 1500 * (attempt + 1)));
    }
  }
  return null;
}

export function Survey() {
  const t = shopify.i18n.translate;
  const orderId = numericId(shopify.orderConfirmation.value.order.id);
  const [survey, setSurvey] = useState<OrderSurvey | null>(null);
  const [done, setDone] = useState<Remembered | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (!orderId) return;
    (async () => {
      const remembered = await shopify.storage.read<Remembered>(key(orderId));
      if (remembered) return setDone(remembered);
      const found = await question(orderId);
      if (found?.answered && found.score !== null) {
        const answered = { score: found.score, group: found.group };
        await shopify.storage.write(key(orderId), answered);
        return setDone(answered);
      }
      setSurvey(found);
    })().catch(() => setSurvey(null));
  }, []);

  async function send(score: number) {
    setBusy(score);
    setFailed(false);
    try {
      const answer = await call<OrderSurvey>(shopify.sessionToken, `/orders/${orderId}/survey`, {
        method: "POST",
        body: { score },
      });
      const answered = { score: answer.score ?? score, group: answer.group, review_url: answer.review_url };
      await shopify.storage.write(key(orderId), answered);
      setDone(answered);
    } catch {
      setFailed(true);
    } finally {
      setBusy(null);
    }
  }

  if (done) {
    return (
      <s-stack gap="small-200">
        <s-heading>{t("survey.thanks")}</s-heading>
        {done.group === "detractor" && <s-text>{t("survey.sorry")}</s-text>}
        {done.group === "promoter" && done.review_url && (
          <s-button href={done.review_url} target="_blank" variant="secondary">
            {t("survey.review")}
          </s-button>
        )}
      </s-stack>
    );
  }
  if (!survey || !survey.enabled || survey.kind === null || survey.low === null || survey.high === null) return null;
  const scores = Array.from({ length: survey.high - survey.low + 1 }, (_, i) => (survey.low ?? 0) + i);
  return (
    <s-stack gap="small-200">
      <s-heading>{t(`survey.question.${survey.kind}`)}</s-heading>
      <s-stack direction="inline" gap="small-200">
        {scores.map((score) => (
          <s-button
            key={score}
            variant="secondary"
            accessibilityLabel={t("survey.score_label", { score, high: survey.high ?? 0 })}
            disabled={busy !== null}
            loading={busy === score}
            onClick={() => send(score)}
          >
            {String(score)}
          </s-button>
        ))}
      </s-stack>
      <s-stack direction="inline" justifyContent="space-between">
        <s-text color="subdued">{t(`survey.low.${survey.kind}`)}</s-text>
        <s-text color="subdued">{t(`survey.high.${survey.kind}`)}</s-text>
      </s-stack>
      {failed && <s-banner tone="critical">{t("survey.error")}</s-banner>}
    </s-stack>
  );
}
