# Build: docker build -t ledgerbridge .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/ledgerbridge

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 ledgerbridge \
    && mkdir -p /var/lib/ledgerbridge/keys && chown -R ledgerbridge /var/lib/ledgerbridge
COPY --from=build /src/target/release/ledgerbridge /usr/local/bin/ledgerbridge
USER ledgerbridge
# A volume mounted at /var/lib/ledgerbridge/keys starts owned by this user (see docker-compose.yml).
ENV LEDGERBRIDGE_LISTEN=0.0.0.0:8080 LEDGERBRIDGE_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["ledgerbridge"]
CMD ["web"]
