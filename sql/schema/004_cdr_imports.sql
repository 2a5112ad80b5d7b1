-- CDR files loaded from the drop directory: each (name, checksum) once, recorded in the
-- same transaction as its rows.
CREATE TABLE cdr_imports (
  name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, rows_loaded BIGINT NOT NULL, rows_rejected BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (name, sha256)
);
