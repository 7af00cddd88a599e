import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { GetStatusResponse } from "@retail/contracts/retail/admin/v1/admin_service_pb";
import {
  type GetMeshStatusResponse,
  GetMeshStatusResponseSchema,
  type StatusSample,
  StatusSampleSchema,
} from "@retail/contracts/retail/operations/v1/operations_service_pb";
import type { OperationsDeps } from "./ports.js";

/**
 * The last hour of samples this instance took: events it received between two samples and the longest
 * any of them had waited, with the mesh's queues and outboxes summed at the sample's time.
 */
export class StatusSamples {
  readonly #samples: StatusSample[] = [];
  #events = 0;
  #maxLagMs = 0;

  constructor(readonly capacity: number) {}

  /** An event arrived at `now`, published at `time`. */
  observe(time: Date, now: Date): void {
    this.#events++;
    this.#maxLagMs = Math.max(this.#maxLagMs, now.getTime() - time.getTime());
  }

  /** Closes a sample at `now` with the mesh's totals then. */
  take(
    now: Date,
    totals: Pick<StatusSample, "ready" | "retrying" | "parked" | "outboxBacklog">,
  ): StatusSample {
    const sample = create(StatusSampleSchema, {
      time: timestampFromDate(now),
      events: this.#events,
      maxLagSeconds: this.#maxLagMs / 1000,
      ...totals,
    });
    this.#events = 0;
    this.#maxLagMs = 0;
    this.#samples.push(sample);
    if (this.#samples.length > this.capacity) this.#samples.shift();
    return sample;
  }

  list(): StatusSample[] {
    return [...this.#samples];
  }
}

/** Every service's status, asked at once; one that does not answer is named with its error. */
async function serviceStatuses(
  deps: OperationsDeps,
): Promise<Array<{ service: string; status?: GetStatusResponse; error: string }>> {
  return Promise.all(
    deps.adminTargets.names().map(async (service) => {
      try {
        return { service, status: await deps.adminTargets.status(service), error: "" };
      } catch (error) {
        return { service, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/** The totals a sample keeps, over the statuses that answered (a -1 the broker could not count is left out). */
function totalsOf(statuses: Awaited<ReturnType<typeof serviceStatuses>>) {
  const totals = { ready: 0n, retrying: 0n, parked: 0n, outboxBacklog: 0n };
  const counted = (n: bigint) => (n > 0n ? n : 0n);
  for (const { status } of statuses) {
    if (!status) continue;
    totals.outboxBacklog += counted(status.outboxBacklog);
    for (const queue of status.queues) {
      totals.ready += counted(queue.ready);
      totals.retrying += counted(queue.retrying);
      totals.parked += counted(queue.parked);
    }
  }
  return totals;
}

/** Takes one sample: asks every service, sums what answered. */
export async function takeSample(deps: OperationsDeps, samples: StatusSamples): Promise<StatusSample> {
  return samples.take(deps.clock.now(), totalsOf(await serviceStatuses(deps)));
}

/** The mesh at a glance: the services now, the exception lists' counts, the last hour's samples. */
export async function meshStatus(
  deps: OperationsDeps,
  samples: StatusSamples,
): Promise<GetMeshStatusResponse> {
  const [statuses, exceptions] = await Promise.all([serviceStatuses(deps), deps.exceptions.openByKind()]);
  return create(GetMeshStatusResponseSchema, {
    services: statuses,
    exceptions: exceptions.map((e) => ({
      kind: e.kind,
      open: e.open,
      ...(e.oldest && { oldestSince: timestampFromDate(e.oldest) }),
    })),
    samples: samples.list(),
  });
}
