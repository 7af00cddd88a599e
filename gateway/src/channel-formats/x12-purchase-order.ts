// ANSI X12 850 purchase orders from B2B trading partners as SubmitOrder requests, parsed by node-x12.
// The partner is the interchange sender (ISA06); its configuration says which product id qualifier in
// PO1 is our SKU (VN, the vendor's item number, by default), the currency when no CUR segment names one,
// and the tax code of its lines (resale buyers are usually exempt). The PO number (BEG03) is the channel
// order id; N1/N3/N4 with ST are the ship-to; the buyer (N1*BY, else the partner) is the customer. The
// control totals (CTT line count, AMT*1 / CTT02 amount when present) must agree with the lines, so a
// truncated or altered file is refused instead of half-ordered.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import {
  type SubmitOrderRequest,
  SubmitOrderRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { AmountInvalid, decimalToMinorUnits } from "@retail/platform/money";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import { X12Parser, type X12Segment } from "node-x12";
import type { InterchangeEnvelope } from "./x12-acknowledgment.js";

export interface X12Partner {
  readonly senderId: string;
  readonly channelId: string;
  readonly sourceSystem: string;
  readonly skuQualifier: string;
  readonly currency: string;
  readonly taxCode: string;
}

export interface PurchaseOrder {
  readonly senderId: string;
  readonly poNumber: string;
  readonly request: SubmitOrderRequest;
}

/**
 * The interchange's sender id (ISA06), its transaction sets, and its envelope (what a 997 answering it
 * needs); anything unparsable is refused.
 */
export function parseInterchange(text: string): {
  senderId: string;
  transactions: Array<{ control: string; type: string; segments: X12Segment[] }>;
  envelope: InterchangeEnvelope;
} {
  let interchange: ReturnType<X12Parser["parse"]>;
  try {
    interchange = new X12Parser(true).parse(text);
  } catch (error) {
    throw new RequestInvalid([
      { field: "(body)", description: `is not an X12 interchange: ${(error as Error).message}` },
    ]);
  }
  if (!("header" in interchange))
    throw new RequestInvalid([{ field: "(body)", description: "must hold one interchange" }]);
  const senderId = (interchange.header.elements[5]?.value ?? "").trim();
  const transactions = interchange.functionalGroups.flatMap((group) =>
    group.transactions.map((tx) => ({
      control: tx.header.elements[1]?.value ?? "",
      type: tx.header.elements[0]?.value ?? "",
      segments: tx.segments,
    })),
  );
  const values = (segment: X12Segment) => segment.elements.map((e) => e.value);
  const envelope: InterchangeEnvelope = {
    isa: ["ISA", ...values(interchange.header)],
    groups: interchange.functionalGroups.map((group) => ({
      gs: values(group.header),
      sets: group.transactions.map((tx) => ({
        type: tx.header.elements[0]?.value ?? "",
        control: tx.header.elements[1]?.value ?? "",
      })),
    })),
  };
  return { senderId, transactions, envelope };
}

/** Maps one 850 transaction set; violations name the segment (ST control number and segment). */
export function purchaseOrderToSubmit(
  tx: { control: string; segments: X12Segment[] },
  partner: X12Partner,
): PurchaseOrder {
  const violations: FieldViolation[] = [];
  const at = (segment: string) => `ST ${tx.control} ${segment}`;
  // Each segment's trimmed elements, read once.
  const rows = tx.segments.map((s) => ({ tag: s.tag, el: s.elements.map((e) => e.value.trim()) }));
  const find = (tag: string, qualifier?: string) =>
    rows.find((s) => s.tag === tag && (qualifier === undefined || s.el[0] === qualifier));
  const beg = find("BEG");
  const poNumber = beg?.el[2] ?? "";
  if (!poNumber)
    violations.push({ field: at("BEG03"), description: "the purchase order number is required" });
  const currency = find("CUR", "BY")?.el[1] ?? partner.currency;
  const money = (text: string, field: string): bigint => {
    try {
      return decimalToMinorUnits(text, currency);
    } catch (error) {
      violations.push({
        field: at(field),
        description: error instanceof AmountInvalid ? error.message : "is not an amount",
      });
      return 0n;
    }
  };
  const lines: Array<{
    lineId: string;
    sku: string;
    quantity: bigint;
    unitPrice: { currencyCode: string; minorUnits: bigint };
  }> = [];
  let total = 0n;
  rows.forEach(({ tag, el }, i) => {
    if (tag !== "PO1") return;
    const where = `PO1 #${lines.length + 1} (segment ${i + 2})`;
    const quantity = /^\d+$/.test(el[1] ?? "") ? BigInt(el[1] ?? "0") : 0n;
    if (quantity <= 0n)
      violations.push({ field: at(`${where} PO102`), description: "must be a positive whole quantity" });
    if (el[2] !== "EA")
      violations.push({
        field: at(`${where} PO103`),
        description: `unit ${el[2]} is not supported: order in eaches (EA)`,
      });
    const unitPrice = money(el[3] ?? "", `${where} PO104`);
    let sku = "";
    for (let q = 5; q + 1 < el.length; q += 2) if (el[q] === partner.skuQualifier) sku = el[q + 1] ?? "";
    if (!sku)
      violations.push({
        field: at(`${where}`),
        description: `has no ${partner.skuQualifier} product id (our SKU)`,
      });
    total += quantity * unitPrice;
    lines.push({
      lineId: el[0] || String(lines.length + 1),
      sku,
      quantity,
      unitPrice: { currencyCode: currency, minorUnits: unitPrice },
    });
  });
  if (lines.length === 0)
    violations.push({ field: at("PO1"), description: "the purchase order has no lines" });
  const ctt = find("CTT")?.el;
  if (ctt && Number(ctt[0]) !== lines.length)
    violations.push({
      field: at("CTT01"),
      description: `says ${ctt[0]} lines but the order has ${lines.length}`,
    });
  const declared = find("AMT", "1")?.el[1] ?? ctt?.[1];
  if (declared && violations.length === 0 && money(declared, "AMT02") !== total)
    violations.push({
      field: at("AMT02"),
      description: `says ${declared} but the lines add up to ${total} minor units`,
    });
  const placed = /^\d{8}$/.test(beg?.el[4] ?? "")
    ? `${beg?.el[4]?.slice(0, 4)}-${beg?.el[4]?.slice(4, 6)}-${beg?.el[4]?.slice(6)}T00:00:00Z`
    : undefined;
  const shipTo = find("N1", "ST")?.el;
  // The ship-to party's N3/N4 are the segments after its N1, up to the next party's N1.
  const party = shipTo ? rows.slice(rows.findIndex((r) => r.el === shipTo) + 1) : [];
  const partyEnd = party.findIndex((r) => r.tag === "N1");
  const partyRows = partyEnd < 0 ? party : party.slice(0, partyEnd);
  const street = partyRows.find((r) => r.tag === "N3")?.el;
  const cityEl = partyRows.find((r) => r.tag === "N4")?.el ?? [];
  const buyer = find("N1", "BY")?.el;
  if (violations.length > 0) throw new RequestInvalid(violations);
  return {
    senderId: partner.senderId,
    poNumber,
    request: create(SubmitOrderRequestSchema, {
      channel: Channel.B2B,
      channelId: partner.channelId,
      channelOrderId: poNumber,
      currencyCode: currency,
      ...(placed && { placeTime: timestampFromDate(new Date(placed)) }),
      customer: {
        sourceSystem: partner.sourceSystem,
        sourceId: buyer?.[3] || partner.senderId,
        familyName: buyer?.[1] || shipTo?.[1] || partner.senderId,
      },
      lines: lines.map((l) => ({ ...l, taxCode: partner.taxCode, fulfillmentType: FulfillmentType.SHIP })),
      ...(shipTo && {
        shipTo: {
          recipient: shipTo[1] ?? "",
          lines: street ? street.filter(Boolean) : [],
          locality: cityEl[0] ?? "",
          administrativeArea: cityEl[1] ?? "",
          postalCode: cityEl[2] ?? "",
          regionCode: cityEl[3] || "US",
        },
      }),
    }),
  };
}
