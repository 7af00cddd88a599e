import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { SigningSecretRotatedSchema } from "@retail/contracts/retail/delivery/v1/delivery_events_pb";
import {
  DeliveryFormat,
  SigningSecretSchema,
  SubscriptionState,
} from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { describe, expect, it } from "vitest";
import { SubscriptionDeleted, SubscriptionExists } from "./errors.js";
import { decideCreate, decideRotate, decideUpdate, evolve, signingSecretIds } from "./subscription.js";

const now = new Date("2026-11-28T10:00:00Z");
const secret = (id: string) =>
  create(SigningSecretSchema, { secretId: id, createTime: timestampFromDate(now) });
const settings = {
  subscriptionId: "erp",
  url: "https://erp.example.com/hooks",
  description: "",
  filter: undefined,
  state: SubscriptionState.UNSPECIFIED,
  maxPerSecond: 0,
  format: DeliveryFormat.UNSPECIFIED,
  x12: undefined,
};

function created() {
  const changed = decideCreate(undefined, settings, secret("s1"), "gateway:ops", now);
  const subscription = changed.subscription;
  if (!subscription) throw new Error("no subscription");
  return subscription;
}

describe("a subscription", () => {
  it("is created active at 10 a second with its first secret, once", () => {
    const subscription = created();
    expect(subscription).toMatchObject({ state: SubscriptionState.ACTIVE, maxPerSecond: 10, version: 1n });
    expect(signingSecretIds(subscription, now)).toEqual(["s1"]);
    expect(() => decideCreate(subscription, settings, secret("s2"), "", now)).toThrow(SubscriptionExists);
  });

  it("changes only when a setting differs, and never after it is deleted", () => {
    const subscription = created();
    expect(decideUpdate(subscription, settings, "", now)).toBeUndefined();
    const paused = decideUpdate(subscription, { ...settings, state: SubscriptionState.PAUSED }, "", now);
    expect(paused?.subscription).toMatchObject({ state: SubscriptionState.PAUSED, version: 2n });
    const deleted = decideUpdate(subscription, { ...settings, state: SubscriptionState.DELETED }, "", now);
    const gone = deleted?.subscription;
    if (!gone) throw new Error("not deleted");
    expect(() => decideUpdate(gone, settings, "", now)).toThrow(SubscriptionDeleted);
    expect(() => decideRotate(gone, secret("s2"), 0, "", now)).toThrow(SubscriptionDeleted);
  });

  it("signs with the new and the previous secret while the rotation overlaps, then with the new one", () => {
    const subscription = created();
    const rotated = decideRotate(subscription, secret("s2"), 3_600_000, "gateway:ops", now);
    const after = evolve(subscription, {
      type: SigningSecretRotatedSchema.typeName,
      newSecret: rotated.newSecret ?? secret("?"),
      previousSecret: rotated.previousSecret,
      at: now,
    });
    if (!after) throw new Error("no state");
    expect(after.version).toBe(2n);
    expect(signingSecretIds(after, now)).toEqual(["s2", "s1"]);
    expect(signingSecretIds(after, new Date(now.getTime() + 3_600_001))).toEqual(["s2"]);
    // A second rotation drops the secret already on its way out.
    const again = decideRotate(after, secret("s3"), 60_000, "", now);
    expect(again.previousSecret?.secretId).toBe("s2");
  });
});
