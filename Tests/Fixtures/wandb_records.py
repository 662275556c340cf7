"""Reads the records of a W&B run file (`run-<id>.wandb`, what an offline run writes and
`wandb sync` uploads) with the SDK's own protobuf schema. wandb 0.31 reads these files in its
Go core only, so the framing is read here: a 7-byte header (':W&B', a 16-bit magic, a version
byte), then LevelDB-log records in 32 KiB blocks, each with a CRC-32 of its type and data."""
import struct
import zlib

from wandb.proto import wandb_internal_pb2

BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path):
    data = open(path, 'rb').read()
    assert data[:4] == b':W&B', f'{path}: not a W&B run file'
    position, pending = 7, b''
    while position + 7 <= len(data):
        left = BLOCK - position % BLOCK
        if left < 7:
            position += left
            continue
        crc, length, kind = struct.unpack('<IHB', data[position:position + 7])
        if kind == 0 and length == 0:  # the rest of the block is padding
            position += left
            continue
        chunk = data[position + 7:position + 7 + length]
        assert len(chunk) == length, f'{path}: record cut short at {position}'
        assert zlib.crc32(bytes([kind]) + chunk) & 0xffffffff == crc, f'{path}: bad checksum at {position}'
        position += 7 + length
        pending += chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b''
            yield record


def history(path):
    """Each history record as {key: value} (JSON-decoded), with media as their info dicts."""
    import json
    for record in records(path):
        if record.WhichOneof('record_type') != 'history':
            continue
        row = {}
        for item in record.history.item:
            key = item.key or '/'.join(item.nested_key)
            row[key] = json.loads(item.value_json)
        yield row


def run_info(path):
    """The run record: name, project, id and the config as a dict."""
    import json
    for record in records(path):
        if record.WhichOneof('record_type') == 'run':
            run = record.run
            config = {u.key or '/'.join(u.nested_key): json.loads(u.value_json) for u in run.config.update}
            return {'name': run.display_name, 'project': run.project, 'id': run.run_id, 'config': config}
    return None
