#!/bin/sh
# Writes .env beside docker-compose.yml with fresh random secrets, once (an existing .env is kept).
# Usage, from the repository root:  sh deploy/compose/init-env.sh [path/to/.env]
set -eu
target="${1:-.env}"
if [ -e "$target" ]; then
  echo "$target exists; keeping it (delete it to start over with new secrets and empty volumes)"
  exit 0
fi
# A letter first, then hex: NATS reads these through its config parser, where a bare
# number would not be a string (docs/operations.md).
secret() { printf 'p%s' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"; }
umask 077
{
  echo "# Secrets of the docker-compose deployment, made by deploy/compose/init-env.sh. Keep private."
  for user in GATEWAY SPACE_STATE GENERATION CHAT MEDIA BILLING DEBUG ADMIN; do
    echo "NATS_${user}_PASSWORD=$(secret)"
  done
  echo "POSTGRES_PASSWORD=$(secret)"
  echo "MINIO_ROOT_USER=makefx"
  echo "MINIO_ROOT_PASSWORD=$(secret)"
  echo "MAKEFX_JWT_SECRET=$(secret)"
  echo "MAKEFX_MEDIA_SIGNING_SECRET=$(secret)"
  echo "# Real providers (leave unset for the offline local ones):"
  echo "# GEMINI_API_KEY="
  echo "# ELEVENLABS_API_KEY="
  echo "# ANTHROPIC_API_KEY="
  echo "# POLAR_ACCESS_TOKEN="
} > "$target"
echo "wrote $target"
