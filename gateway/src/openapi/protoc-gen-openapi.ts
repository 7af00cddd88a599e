// protoc-gen-openapi: the project's own protoc plugin (run by `buf generate`, see buf.gen.yaml) that
// writes gateway/openapi/openapi.json from the services of the files being generated. It shares
// http-rule.ts with the gateway's route table, so the document and the routes come from one reading.
import { create, createFileRegistry, type DescService } from "@bufbuild/protobuf";
import {
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { getComments, type Plugin, runNodeJs } from "@bufbuild/protoplugin";
import { buildOpenApi } from "./document.js";
import { documentExamples, readExampleFile } from "./examples.js";

const plugin: Plugin = {
  name: "protoc-gen-openapi",
  version: "v1",
  run(request) {
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
    const services: DescService[] = [];
    for (const name of request.fileToGenerate) {
      const file = registry.getFile(name);
      if (file) services.push(...file.services);
    }
    const document = buildOpenApi(
      services,
      (desc) => {
        const text = getComments(desc).leading?.trim();
        return text ? text.replace(/\s*\n\s*/g, " ") : undefined;
      },
      documentExamples(services, readExampleFile()),
    );
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: [{ name: "openapi.json", content: `${JSON.stringify(document, null, 2)}\n` }],
    });
  },
};

runNodeJs(plugin);
