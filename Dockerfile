# sesame's container image: the static binary and two configs, nothing else.
# It builds offline, pulling no base image; the binary is built first:
#
#   CGO_ENABLED=0 go build -trimpath -buildvcs=true -o dist/docker/sesame ./cmd/sesame
#   docker build -t sesame .
#
# (dist/docker/build.sh does both, with the version and commit as labels.)
# docs/container.md says how to run it; e2e/container_test.go checks this
# file's promises without docker.
FROM scratch

ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sesame" \
      org.opencontainers.image.description="A self-hosted email service that speaks Amazon SES's protocols (SMTP, SES v1/v2 and SNS APIs)" \
      org.opencontainers.image.documentation="docs/container.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY dist/docker/sesame /sesame
COPY dist/docker/sesame.toml dist/docker/development.toml /etc/sesame/
# An empty directory owned by sesame's user (scratch has no mkdir): a new
# named volume mounted on /data starts as a copy of it, owner included.
COPY --chown=65532:65532 dist/docker/data/ /data/
# The same for backups (`sesame admin backup /backup/NAME`): a volume
# mounted there is writable by sesame's user too (docs/container.md).
COPY --chown=65532:65532 dist/docker/data/ /backup/

# Relative paths, and SQLite's temporary files when there is no /tmp (there
# is none), land in the data volume: the only writable place.
WORKDIR /data
# The first-start banner then writes its admin commands as `docker exec`.
ENV SESAME_CONTAINER=1
USER 65532:65532
VOLUME /data
# 2587 STARTTLS, 2465 TLS (SES's SMTP ports), 8787 the APIs and /_aws/ses,
# 8788 the web console, 2525 the feedback MX (mode "mx" only).
EXPOSE 2587 2465 8787 8788 2525

# No HEALTHCHECK: scratch has no shell or curl to run one; probe
# http://HOST:8787/_sesame/health from outside (docs/container.md).
ENTRYPOINT ["/sesame"]
CMD ["serve", "-c", "/etc/sesame/sesame.toml"]
