// An accepted order as an X12 940 warehouse shipping order (004010) for the warehouse a subscription
// stands for: its lines to ship from the subscription's locations, nothing else. Laid out as the 940
// WMSs take (W05 with our order number and the channel's, N1/N3/N4 ship-to, N1 WH, G62 requested ship
// date, W66 carrier terms, LX/W01 per line with the SKU as vendor item number, W76 total), inside an
// envelope addressed per the subscription's X12 parties. Built with node-x12, which writes the
// trailers (SE, GE, IEA) and their counts.
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { X12Parties } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import { X12Interchange } from "node-x12";
import type { Rendered } from "../../app/ports.js";

const pad = (value: string, width: number) => value.padEnd(width).slice(0, width);
const two = (n: number) => String(n).padStart(2, "0");
const yyyymmdd = (at: Date) => `${at.getUTCFullYear()}${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}`;
const hhmm = (at: Date) => `${two(at.getUTCHours())}${two(at.getUTCMinutes())}`;
/** X12 text never carries the delimiters (or the segment terminator) inside an element. */
const clean = (value: string) => value.replace(/[*~>^\r\n]/g, " ").trim();

/**
 * The 940 for an OrderAccepted event, or undefined when the event is another type or the order has
 * no line to ship from `locations`. `control` is the interchange control number (ISA13, GS06), the
 * same on every attempt of one delivery.
 */
export function warehouseShippingOrder(
  event: { type: string; data: Uint8Array; time: Date },
  options: { parties: X12Parties; locations: readonly string[]; control: number; now: Date },
): Rendered | undefined {
  if (event.type !== OrderAcceptedSchema.typeName) return undefined;
  const order = fromBinary(OrderAcceptedSchema, event.data).order;
  if (!order) return undefined;
  const lines = order.lines.filter(
    (l) =>
      options.locations.includes(l.fulfillmentLocationId) &&
      l.fulfillmentType !== FulfillmentType.PICKUP_IN_STORE &&
      l.quantity - l.cancelledQuantity > 0n,
  );
  if (lines.length === 0) return undefined;
  const { parties, now } = options;
  const control = String(options.control).padStart(9, "0");
  const interchange = new X12Interchange();
  interchange.setHeader([
    "00",
    pad("", 10),
    "00",
    pad("", 10),
    parties.senderQualifier,
    pad(parties.senderId, 15),
    parties.receiverQualifier,
    pad(parties.receiverId, 15),
    yyyymmdd(now).slice(2),
    hhmm(now),
    "U",
    "00401",
    control,
    "0",
    parties.test ? "T" : "P",
    ">",
  ]);
  const group = interchange.addFunctionalGroup();
  group.setHeader([
    "OW",
    parties.senderId,
    parties.receiverId,
    yyyymmdd(now),
    hhmm(now),
    String(options.control),
    "X",
    "004010",
  ]);
  const tx = group.addTransaction();
  tx.setHeader(["940", "0001"]);
  tx.addSegment("W05", ["N", clean(order.orderId), clean(order.channelOrderId)]);
  const to = order.shipTo;
  tx.addSegment("N1", ["ST", clean(to?.recipient || order.customerId || "CUSTOMER")]);
  if (to && to.lines.length > 0) tx.addSegment("N3", to.lines.slice(0, 2).map(clean));
  if (to)
    tx.addSegment("N4", [
      clean(to.locality),
      clean(to.administrativeArea),
      clean(to.postalCode),
      clean(to.regionCode),
    ]);
  const warehouse = lines[0]?.fulfillmentLocationId ?? "";
  tx.addSegment("N1", ["WH", clean(warehouse), "91", clean(warehouse)]);
  tx.addSegment("G62", ["10", yyyymmdd(order.createTime ? timestampDate(order.createTime) : event.time)]);
  tx.addSegment("W66", ["PP", "M"]);
  let units = 0n;
  lines.forEach((line, i) => {
    const quantity = line.quantity - line.cancelledQuantity;
    units += quantity;
    tx.addSegment("LX", [String(i + 1)]);
    tx.addSegment("W01", [String(quantity), "EA", "", "VN", clean(line.sku)]);
    tx.addSegment("N9", ["LI", clean(line.lineId)]);
  });
  tx.addSegment("W76", [String(units)]);
  return { contentType: "application/edi-x12", body: interchange.toString() };
}
