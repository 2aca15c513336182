// Twin of the seed's Node monolith for `make bench`: GET /api/v1/placas?page&pageSize as the seed's
// Express + Mongoose + ioredis modular monolith served it (JWT, cache-aside in Redis, 10 minutes), on
// the same MongoDB collection and the same Redis as core-api. The JWT key is a KeyObject made once.
// Env: PORT, MONGODB_URL, MONGODB_DB, REDIS_URL, JWT_SECRET, JWT_ISSUER, WORKERS (node:cluster).
"use strict";

const cluster = require("node:cluster");
const crypto = require("node:crypto");

const WORKERS = Number(process.env.WORKERS || 2);

if (process.argv.includes("--help")) {
  console.log("usage: node server.js   (env: PORT MONGODB_URL MONGODB_DB REDIS_URL JWT_SECRET JWT_ISSUER WORKERS)");
  process.exit(0);
}

if (cluster.isPrimary && WORKERS > 1) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on("exit", (w, code) => { if (code) process.exit(code); });
} else {
  main().catch((err) => { console.error(err); process.exit(1); });
}

async function main() {
  const express = require("express");
  const mongoose = require("mongoose");
  const Redis = require("ioredis");
  const jwt = require("jsonwebtoken");

  const key = crypto.createSecretKey(Buffer.from(process.env.JWT_SECRET, "utf8"));
  const verifyOptions = { algorithms: ["HS256"], issuer: process.env.JWT_ISSUER };
  const redis = new Redis(process.env.REDIS_URL);
  await mongoose.connect(process.env.MONGODB_URL, { dbName: process.env.MONGODB_DB });

  const Placa = mongoose.model("Placa", new mongoose.Schema({
    empresa_id: mongoose.Schema.Types.ObjectId,
    numero: String, regiao_id: mongoose.Schema.Types.ObjectId, endereco: String,
    cidade: String, uf: String, tipo: String, largura_cm: Number, altura_cm: Number,
    valor_mensal_centavos: Number, ativa: Boolean, descricao: String,
    created_at: Date, updated_at: Date,
  }, { collection: "placas", versionKey: false }));

  const app = express();
  app.disable("x-powered-by");

  function auth(req, res, next) {
    const header = req.headers.authorization || "";
    if (!header.startsWith("Bearer ")) return res.status(401).json({ detail: "missing token" });
    try {
      const claims = jwt.verify(header.slice(7), key, verifyOptions);
      if (claims.typ !== "access") throw new Error("not an access token");
      req.user = { id: claims.sub, empresaId: claims.empresa_id, role: claims.role };
      return next();
    } catch (err) {
      return res.status(401).json({ detail: "invalid token" });
    }
  }

  const item = (p) => ({
    id: String(p._id), numero: p.numero, regiaoId: String(p.regiao_id), endereco: p.endereco,
    cidade: p.cidade ?? null, uf: p.uf ?? null, tipo: p.tipo ?? null, larguraCm: p.largura_cm ?? null,
    alturaCm: p.altura_cm ?? null, valorMensalCentavos: p.valor_mensal_centavos, ativa: p.ativa,
    descricao: p.descricao ?? null, createdAt: p.created_at, updatedAt: p.updated_at,
  });

  app.get("/api/v1/placas", auth, async (req, res, next) => {
    try {
      const page = Math.max(1, parseInt(req.query.page || "1", 10) || 1);
      const pageSize = Math.min(100, Math.max(1, parseInt(req.query.pageSize || "20", 10) || 20));
      const cacheKey = `twin:placas:${req.user.empresaId}:${page}:${pageSize}`;
      const bypass = req.user.role === "admin";
      if (!bypass) {
        const hit = await redis.get(cacheKey);
        if (hit) return res.type("application/json").send(hit);
      }
      const filter = { empresa_id: new mongoose.Types.ObjectId(req.user.empresaId) };
      const [docs, total] = await Promise.all([
        Placa.find(filter).sort({ numero: 1, _id: 1 }).skip((page - 1) * pageSize).limit(pageSize).lean(),
        Placa.countDocuments(filter),
      ]);
      const body = JSON.stringify({ items: docs.map(item), total, page, pageSize });
      if (!bypass) await redis.set(cacheKey, body, "EX", 600);
      return res.type("application/json").send(body);
    } catch (err) {
      return next(err);
    }
  });

  app.get("/health", (req, res) => res.json({ status: "ok" }));
  app.listen(Number(process.env.PORT), "127.0.0.1");
}
