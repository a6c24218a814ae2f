// Declarations for the few things the plugin uses that zotero-types leaves untyped.

/** `prefs.js` (default preferences) is run by Zotero with a `pref(name, value)` function. */
declare function pref(name: string, value: string | number | boolean): void;

declare namespace SpecterDeskTypes {
  /** An identifier Zotero's translators can look up (see Zotero.Utilities.extractIdentifiers). */
  type Identifier = { DOI: string } | { arXiv: string };

  /** The part of Zotero.Translate.Search the plugin uses (zotero-types types Translate as any). */
  interface TranslateSearch {
    setIdentifier(identifier: Identifier): void;
    getTranslators(): Promise<unknown[]>;
    setTranslator(translators: unknown[]): void;
    translate(options: {
      libraryID: number;
      collections?: number[];
      saveAttachments?: boolean;
    }): Promise<Zotero.Item[]>;
  }

  interface TranslateNamespace {
    Search: new () => TranslateSearch;
  }
}
