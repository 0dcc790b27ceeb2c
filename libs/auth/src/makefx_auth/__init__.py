"""Make Effects auth: JWT access tokens issued by the gateway and checked wherever a user acts."""
