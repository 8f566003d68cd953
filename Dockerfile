FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The widget is bundled once at image build; the gateway serves dist/ when esbuild is pruned away.
RUN npm run build:widget && npm prune --omit=dev --no-audit --no-fund
ENV NODE_ENV=production
EXPOSE 3000
CMD ["npm", "start"]
