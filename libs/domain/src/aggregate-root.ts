import type { DomainEvent } from '@authz/contracts';

type Handler = (data: unknown) => void;

/**
 * Event-sourced aggregate: state changes only through `on<EventType>` handlers, both when
 * an event is decided (`raise`) and when history is replayed (`loadFromHistory`).
 */
export abstract class AggregateRoot {
  private _version = 0;
  private readonly pending: DomainEvent[] = [];

  /** Version of the last event loaded from the store: the expected version of the next append. */
  get version(): number {
    return this._version;
  }

  /**
   * Replays the stream's events. `version`: the stream's version, when the history leaves out
   * events that change no state of this aggregate (it has no handler for them); the next
   * append is expected there.
   */
  loadFromHistory(events: Iterable<Pick<DomainEvent, 'type' | 'data'>>, version?: number): this {
    for (const event of events) {
      this.mutate(event.type, event.data);
      this._version += 1;
    }
    if (version !== undefined) {
      if (!Number.isInteger(version) || version < this._version) throw new RangeError(`a stream of ${this._version} events cannot be at version ${version}`);
      this._version = version;
    }
    return this;
  }

  /** Events decided since the aggregate was loaded, in order. */
  uncommittedEvents(): readonly DomainEvent[] {
    return [...this.pending];
  }

  protected raise<D>(type: string, schemaVersion: number, data: D): void {
    this.mutate(type, data);
    this.pending.push({ type, schemaVersion, data });
  }

  private mutate(type: string, data: unknown): void {
    const handler = (this as unknown as Record<string, Handler | undefined>)[`on${type}`];
    handler?.call(this, data);
  }
}
