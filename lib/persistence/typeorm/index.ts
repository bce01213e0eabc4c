export { TypeOrmTaskBackend, TypeOrmTaskBackendOptions, DEFAULT_TABLE_PREFIX } from './typeorm.backend';
export { sqliteOptions } from './sqlite-options';
