import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { CustomerStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import type { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import type { CustomerDirectory } from "../../app/ports.js";

/** Why customer-identity refused, in words an order's rejection reasons can carry. */
function refusal(error: ConnectError): string {
  const violations = error.findDetails(BadRequestSchema)[0]?.fieldViolations ?? [];
  const detail = violations
    .map((v) => `${v.field.replace(/^source_record\./, "customer.")} ${v.description}`)
    .join("; ");
  return `customer invalid: ${detail || error.rawMessage}`;
}

/**
 * The order's customer through customer-identity: a known customer id is checked (a merged-away id
 * gives its survivor), otherwise the channel's view of the customer is upserted with the order id as
 * request id, so a saga resumed after a crash links the same customer once.
 */
export function createCustomerDirectory(client: Client<typeof CustomerIdentityService>): CustomerDirectory {
  return {
    async resolve(orderId, customer, shipTo) {
      try {
        if (customer.customerId) {
          const { customer: found } = await client.getCustomer({ customerId: customer.customerId });
          if (!found || found.status !== CustomerStatus.ACTIVE) {
            return { rejected: `customer ${customer.customerId} is not active` };
          }
          return { customerId: found.customerId };
        }
        const { customer: linked } = await client.upsertFromSource({
          requestId: `order:${orderId}`,
          sourceRecord: {
            sourceSystem: customer.sourceSystem,
            sourceId: customer.sourceId,
            email: customer.email,
            phone: customer.phone,
            givenName: customer.givenName,
            familyName: customer.familyName,
            loyaltyNumber: customer.loyaltyNumber,
            addresses: shipTo ? [shipTo] : [],
          },
        });
        if (!linked || linked.status === CustomerStatus.ERASED)
          return { rejected: "customer could not be resolved" };
        if (linked.status === CustomerStatus.DEACTIVATED)
          return { rejected: `customer ${linked.customerId} is deactivated` };
        return { customerId: linked.customerId };
      } catch (error) {
        const connect = ConnectError.from(error);
        if (connect.code === Code.NotFound) return { rejected: `customer ${customer.customerId} not found` };
        if (connect.code === Code.InvalidArgument) return { rejected: refusal(connect) };
        throw error; // unreachable or failing: the saga stays pending and is resumed later
      }
    },
  };
}
