# syntax=docker/dockerfile:1
# ups2mqtt container image, built from this repository:
#   docker build -t ups2mqtt .
#   docker run --rm -e UPS2MQTT_SOURCE=nis://apcupsd-host:3551 \
#     -e UPS2MQTT_MQTT_URL=mqtt://broker:1883 ups2mqtt
# docker-compose.yml runs it next to mosquitto. (The Home Assistant add-on has its own
# Dockerfile in addon/.)
#
# Debian slim, not Alpine: the prebuilt native modules are glibc builds for amd64 and
# arm64 (serialport has no musl build; node-hid only for x64).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compile, then keep production dependencies only.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# node-hid's prebuilt binaries load libusb (and libudev for hidraw) at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libusb-1.0-0 libudev1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json README.md ./
# data_dir (default ./data = /app/data: outage counters, energy, the power policy's state)
# must be writable by the unprivileged user; mount a volume there to keep it
# (docs/deployment.md, "Docker").
RUN mkdir /app/data && chown node:node /app/data
# In a container the endpoint listens on the container's interfaces; publishing the port
# (-p 127.0.0.1:1551:1551) stays the user's choice.
ENV NODE_ENV=production \
    UPS2MQTT_HTTP_HOST=0.0.0.0 \
    UPS2MQTT_HTTP_PORT=1551
# The node image's unprivileged user (uid 1000). For USB/serial devices add the device's
# group with --group-add (see docs/deployment.md).
USER node
EXPOSE 1551
# curl/wget are not in the slim image: Node's fetch asks /healthz (200 healthy, 503 not).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.UPS2MQTT_HTTP_PORT || 1551) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["run"]
