import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "@retail/contracts/retail/common/v1/money_pb";

/** Integer minor units of one currency: every amount here, never a float. */
export function money(currencyCode: string, minorUnits: bigint): Money {
  return create(MoneySchema, { currencyCode, minorUnits });
}
