package observe

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is the worker's OpenTelemetry tracing: the SDK's tracing interceptor,
// which makes a span of every workflow start, workflow run, activity and signal,
// exported over OTLP.
type Tracing struct {
	// Interceptor goes into the Temporal client's options; its workers use it too.
	Interceptor interceptor.Interceptor
	provider    *sdktrace.TracerProvider
}

// NewTracing exports spans over OTLP to where the standard OTEL_EXPORTER_OTLP_*
// variables say (endpoint, headers, TLS, timeout), in the protocol
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL names:
// "grpc", or "http/protobuf" (the default, as in OpenTelemetry's specification).
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES name the service (default ekmsync-worker).
func NewTracing(ctx context.Context) (*Tracing, error) {
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var client otlptrace.Client
	switch protocol {
	case "", "http/protobuf":
		client = otlptracehttp.NewClient()
	case "grpc":
		client = otlptracegrpc.NewClient()
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported; want grpc or http/protobuf", protocol)
	}
	exporter, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.NewSchemaless(semconv.ServiceName("ekmsync-worker")), resource.Environment())
	if err != nil {
		res = resource.Default()
	}
	return newTracing(sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)))
}

func newTracing(tp *sdktrace.TracerProvider) (*Tracing, error) {
	ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("ekmsync")})
	if err != nil {
		return nil, err
	}
	return &Tracing{Interceptor: ti, provider: tp}, nil
}

// Shutdown sends the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.provider.Shutdown(ctx) }
