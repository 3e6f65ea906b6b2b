SELECT toUInt64(count()) FROM erasure_receipts WHERE event_id = toUUID(?)
