import { describe, expect, it } from "vitest";
import { endpointUrlProblem } from "./endpoint-url.js";

describe("a subscription's endpoint URL", () => {
  it("is https anywhere", () => {
    expect(endpointUrlProblem("https://erp.example.com/hooks/mesh")).toBeUndefined();
  });

  it("is plain http only inside the retailer's network", () => {
    for (const ok of [
      "http://127.0.0.1:8080/hooks",
      "http://localhost/hooks",
      "http://10.1.2.3/x",
      "http://172.20.0.5/x",
      "http://192.168.1.9/x",
      "http://wms-adapter:8080/x",
      "http://erp.retail.svc.cluster.local/x",
      "http://[::1]:9000/x",
    ])
      expect(endpointUrlProblem(ok), ok).toBeUndefined();
    for (const bad of ["http://erp.example.com/hooks", "http://8.8.8.8/x", "http://172.32.0.1/x"])
      expect(endpointUrlProblem(bad), bad).toMatch(/must be https/);
  });

  it("refuses other schemes, credentials, fragments and non-URLs", () => {
    expect(endpointUrlProblem("ftp://erp.example.com/x")).toMatch(/https/);
    expect(endpointUrlProblem("https://user:pw@erp.example.com/x")).toMatch(/credentials/);
    expect(endpointUrlProblem("https://erp.example.com/x#frag")).toMatch(/fragment/);
    expect(endpointUrlProblem("erp.example.com")).toMatch(/absolute/);
  });
});
