// Ponte's application user, created once by the mongo image on an empty data volume
// (/docker-entrypoint-initdb.d runs this with mongosh, logged in as the root user, against
// MONGO_INITDB_DATABASE). readWrite on Ponte's database only: it cannot create users, read
// other databases or run administrative commands. The password comes from the container's
// environment (MONGO_PONTE_PASSWORD, the one app services' MONGO_URI carries), never from
// this file. A later password change: db.changeUserPassword("ponte", ...) as root.
const name = process.env.MONGO_DB || "ecommerce";
const password = process.env.MONGO_PONTE_PASSWORD || "";
// Refuse a weak password here rather than create a user the first guess opens.
if (password.length < 16) {
  throw new Error("init-ponte-user.js: MONGO_PONTE_PASSWORD must have 16+ characters");
}
db.getSiblingDB(name).createUser({
  user: "ponte",
  pwd: password,
  roles: [{ role: "readWrite", db: name }],
});
print(`init-ponte-user.js: user ponte created with readWrite on ${name}`);
