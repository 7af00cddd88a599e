// An OTLP/HTTP trace receiver for the mesh's telemetry tests: it decodes what the exporters send with
// the OpenTelemetry Collector's own data library (pdata: protobuf or JSON, gzip or not), answers as a
// collector does, and keeps every span it received, flattened, for GET /spans?traceId=<hex>.
//
//	otlp-receiver -listen 127.0.0.1:0   # prints "listening on 127.0.0.1:<port>" once it accepts
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Span is one received span, as the tests read it.
type Span struct {
	Service      string         `json:"service"`
	TraceID      string         `json:"traceId"`
	SpanID       string         `json:"spanId"`
	ParentSpanID string         `json:"parentSpanId"`
	Name         string         `json:"name"`
	Kind         string         `json:"kind"`
	Status       string         `json:"status"`
	StartNanos   uint64         `json:"startUnixNano"`
	EndNanos     uint64         `json:"endUnixNano"`
	Attributes   map[string]any `json:"attributes"`
}

type store struct {
	mu       sync.Mutex
	spans    []Span
	requests int
}

func (s *store) add(traces ptrace.Traces) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	for i := 0; i < traces.ResourceSpans().Len(); i++ {
		resource := traces.ResourceSpans().At(i)
		service := ""
		if name, ok := resource.Resource().Attributes().Get("service.name"); ok {
			service = name.AsString()
		}
		for j := 0; j < resource.ScopeSpans().Len(); j++ {
			spans := resource.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				parent := ""
				if !span.ParentSpanID().IsEmpty() {
					parent = span.ParentSpanID().String()
				}
				s.spans = append(s.spans, Span{
					Service:      service,
					TraceID:      span.TraceID().String(),
					SpanID:       span.SpanID().String(),
					ParentSpanID: parent,
					Name:         span.Name(),
					Kind:         span.Kind().String(),
					Status:       span.Status().Code().String(),
					StartNanos:   uint64(span.StartTimestamp()),
					EndNanos:     uint64(span.EndTimestamp()),
					Attributes:   span.Attributes().AsRaw(),
				})
			}
		}
	}
}

func (s *store) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		unzipped, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = unzipped
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	request := ptraceotlp.NewExportRequest()
	response := ptraceotlp.NewExportResponse()
	var answer []byte
	switch r.Header.Get("Content-Type") {
	case "application/x-protobuf":
		if err = request.UnmarshalProto(raw); err == nil {
			answer, err = response.MarshalProto()
		}
	case "application/json":
		if err = request.UnmarshalJSON(raw); err == nil {
			answer, err = response.MarshalJSON()
		}
	default:
		http.Error(w, "Content-Type must be application/x-protobuf or application/json", http.StatusUnsupportedMediaType)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.add(request.Traces())
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	_, _ = w.Write(answer)
}

func (s *store) list(w http.ResponseWriter, r *http.Request) {
	traceID := r.URL.Query().Get("traceId")
	s.mu.Lock()
	found := []Span{}
	for _, span := range s.spans {
		if traceID == "" || span.TraceID == traceID {
			found = append(found, span)
		}
	}
	requests := s.requests
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"requests": requests, "spans": found})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:4318", "address to listen on (port 0: any free port)")
	flag.Parse()
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	s := &store{}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", s.export)
	mux.HandleFunc("/spans", s.list)
	fmt.Fprintf(os.Stdout, "listening on %s\n", listener.Addr())
	log.Fatal(http.Serve(listener, mux))
}
