import { create, type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionResponseSchema,
} from "@retail/contracts/grpc/reflection/v1/reflection_pb";

/** Every file the services are defined in, with all their imports. */
function filesOf(services: readonly DescService[]): Map<string, DescFile> {
  const files = new Map<string, DescFile>();
  const add = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    for (const dependency of file.dependencies) add(dependency);
  };
  for (const service of services) add(service.file);
  return files;
}

/** A file and its transitive imports, encoded; grpcurl and buf curl want the whole closure. */
function closure(file: DescFile): Uint8Array[] {
  const seen = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.set(f.name, f);
    for (const d of f.dependencies) visit(d);
  };
  visit(file);
  return [...seen.values()].map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
}

function symbolIndex(files: Iterable<DescFile>): Map<string, DescFile> {
  const index = new Map<string, DescFile>();
  const walkMessage = (file: DescFile, message: DescFile["messages"][number]) => {
    index.set(message.typeName, file);
    for (const field of message.fields) index.set(`${message.typeName}.${field.name}`, file);
    for (const nested of message.nestedMessages) walkMessage(file, nested);
    for (const nestedEnum of message.nestedEnums) index.set(nestedEnum.typeName, file);
  };
  for (const file of files) {
    for (const message of file.messages) walkMessage(file, message);
    for (const enumeration of file.enums) index.set(enumeration.typeName, file);
    for (const service of file.services) {
      index.set(service.typeName, file);
      for (const method of service.methods) index.set(`${service.typeName}.${method.name}`, file);
    }
    for (const extension of file.extensions) index.set(extension.typeName, file);
  }
  return index;
}

/** gRPC server reflection v1 over the served services, so grpcurl and buf curl work without protos. */
export function createReflectionService(
  services: readonly DescService[],
): ServiceImpl<typeof ServerReflection> {
  const all = [...services, ServerReflection];
  const files = filesOf(all);
  const symbols = symbolIndex(files.values());
  const filesByName = new Map([...files.values()].map((f) => [f.proto.name, f]));
  const serviceNames = [...new Set(all.map((s) => s.typeName))];

  function answer(request: ServerReflectionRequest) {
    const base = { validHost: request.host, originalRequest: request };
    const notFound = (what: string) =>
      create(ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "errorResponse",
          value: { errorCode: 5, errorMessage: `${what} not found` },
        },
      });
    const files = (file: DescFile | undefined, what: string) =>
      file
        ? create(ServerReflectionResponseSchema, {
            ...base,
            messageResponse: {
              case: "fileDescriptorResponse",
              value: { fileDescriptorProto: closure(file) },
            },
          })
        : notFound(what);
    const message = request.messageRequest;
    switch (message.case) {
      case "listServices":
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "listServicesResponse",
            value: { service: serviceNames.map((name) => ({ name })) },
          },
        });
      case "fileByFilename":
        return files(filesByName.get(message.value), `file ${message.value}`);
      case "fileContainingSymbol":
        return files(symbols.get(message.value.replace(/^\./, "")), `symbol ${message.value}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = message.value;
        const file = [...filesByName.values()].find((f) =>
          f.extensions.some((e) => e.extendee.typeName === containingType && e.number === extensionNumber),
        );
        return files(file, `extension ${extensionNumber} of ${containingType}`);
      }
      case "allExtensionNumbersOfType": {
        const numbers = [...filesByName.values()].flatMap((f) =>
          f.extensions.filter((e) => e.extendee.typeName === message.value).map((e) => e.number),
        );
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: message.value, extensionNumber: numbers },
          },
        });
      }
      default:
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "errorResponse",
            value: { errorCode: 3, errorMessage: "empty reflection request" },
          },
        });
    }
  }

  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield answer(request);
    },
  };
}
