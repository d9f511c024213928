# tokenizer and upstream-sim in one image (docker-compose.yml runs both from it).
#
# Stage 1 (build): Debian 12 with exactly what scripts/bootstrap installs (the same script
# runs here, so the image and a developer's machine build with the same packages and the
# same patched Pistache), then a Release build of the two executables.
# Stage 2 (runtime): debian:12-slim with only the shared libraries the binaries link
# (Pistache is static), curl for the health check, a non-root user.
#
#   docker build -t tokenizer:local .
#   docker run --rm -p 127.0.0.1:3000:3000 -e TOKENIZER_UPSTREAM_URL=https://... tokenizer:local

FROM debian:12 AS build
# TOKENIZER_BOOTSTRAP_NPM=0: the npm packages bootstrap installs only type-check dashboards.
ENV DEBIAN_FRONTEND=noninteractive TOKENIZER_BOOTSTRAP_NPM=0
WORKDIR /src
# Dependencies first, so this layer is cached until the bootstrap or Pistache patches change.
COPY scripts/bootstrap scripts/bootstrap
COPY third_party/ third_party/
RUN scripts/bootstrap && rm -rf /var/lib/apt/lists/* .deps/apt-state
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOKENIZER_BUILD_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target tokenizer upstream-sim \
 && strip build/bin/tokenizer build/bin/upstream-sim

FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      ca-certificates curl libcurl4 libssl3 libhiredis0.14 libprometheus-cpp-core1.0 libjemalloc2 libsimdjson14 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin tokenizer
COPY --from=build /src/build/bin/tokenizer /src/build/bin/upstream-sim /usr/local/bin/
USER 10001:10001
ENV TOKENIZER_LISTEN=0.0.0.0:3000
EXPOSE 3000
# /healthz needs no credentials and is not counted as API traffic.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/tokenizer"]
