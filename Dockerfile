# Builds ekmsync's three binaries (worker, starter, ekmsim) into one small image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t ekmsync .
#
# The Go image is pinned to go.mod's exact Go version (internal/compose checks it), and
# VERSION is stamped into every binary: 'worker --version', 'starter version'.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-X github.com/ekmsync/ekmsync/internal/version.Version=${VERSION}" \
    -o /out/ ./worker ./starter ./cmd/ekmsim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER nonroot
ENTRYPOINT ["/usr/local/bin/worker"]
