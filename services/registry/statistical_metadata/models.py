"""BPS statistical metadata (Peraturan BPS No. 5 Tahun 2020 on the Indonesian statistical
metadata forms): the activity that produces a dataset (MS-Kegiatan) and, per measure, the
variable (MS-Variabel) or the indicator (MS-Indikator). Every field may be left empty while the
producer works on it; what a complete form needs is listed by ``REQUIRED`` and every answer
names what is still missing. The Indonesian labels (``LABELS``) are the forms' own rows, read by
the portal and the BPS-layout workbook alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page
from shared.validation import Note, Text

Long = Text(10_000, multiline=True)
Short = Text(2000, multiline=True)  # as long as a Perpres 39 value it may come from
Status = Literal["held", "verified", "returned", "superseded"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Kegiatan(Strict):
    """MS-Kegiatan: the statistical activity."""

    judul: Short | None = None
    tahun: int | None = Field(None, ge=1900, le=2100)
    jenis_statistik: Literal["sektoral", "dasar", "khusus"] | None = None
    cara_pengumpulan: Literal["pencacahan_lengkap", "survei", "kompilasi_produk_administrasi",
                              "cara_lain"] | None = None
    sektor: Short | None = None
    penyelenggara: Short | None = Field(None, description="the organising agency (produsen "
                                                          "data)")
    walidata: Short | None = Field(None, description="the walidata it is reported to")
    penanggung_jawab: Short | None = Field(None, description="unit and person responsible")
    perencanaan: Long | None = Field(None, description="background, objectives, schedule")
    desain: Long | None = Field(None, description="coverage, frequency, collection design")
    desain_sampel: Long | None = Field(None, description="sample design, or why none is used "
                                                         "(complete enumeration, compilation)")
    penjaminan_kualitas: Long | None = None
    pengolahan_analisis: Long | None = None
    diseminasi: Long | None = Field(None, description="products and media of dissemination")


class Variabel(Strict):
    """MS-Variabel: a measure collected as it is."""

    jenis: Literal["variabel"]
    nama: Short | None = None
    alias: Short | None = None
    konsep: Long | None = None
    definisi: Long | None = None
    referensi_waktu: Short | None = Field(None, description="the reference period")
    tipe_data: Literal["numerik", "karakter", "tanggal", "boolean"] | None = None
    klasifikasi_isian: Long | None = Field(None, description="the classification of answers")
    aturan_validasi: Long | None = None
    kalimat_pertanyaan: Long | None = None
    akses_umum: bool | None = Field(None, description="open to the public")


class Indikator(Strict):
    """MS-Indikator: a measure computed or presented as an indicator."""

    jenis: Literal["indikator"]
    nama: Short | None = None
    konsep: Long | None = None
    definisi: Long | None = None
    interpretasi: Long | None = None
    metode_perhitungan: Long | None = Field(None, description="the method in words")
    rumus: Text(500) | None = Field(
        None, description="the formula over the dataset's measures, e.g. "
                          "'penduduk_miskin / jumlah_penduduk * 100'; every name must be one "
                          "of its measures")
    ukuran: Short | None = None
    satuan: Short | None = None
    klasifikasi_penyajian: Long | None = Field(None, description="how it is broken down")
    komposit: bool | None = None
    indikator_pembangun: list[Text(100)] = Field(
        [], max_length=50, description="the measures it is built from (checked)")
    kegiatan_penghasil: Short | None = None
    frekuensi: Short | None = None
    level_estimasi: Literal["kabupaten", "kecamatan", "desa"] | None = Field(
        None, description="the lowest level it is published at")


MeasureMetadata = Annotated[Variabel | Indikator, Field(discriminator="jenis")]


class Document(Strict):
    kegiatan: Kegiatan = Field(default_factory=Kegiatan)
    measures: dict[Text(100), MeasureMetadata] = Field(
        default_factory=dict, max_length=100, description="per measure name")


class ReturnNote(Strict):
    note: Note = Field(min_length=3, description="what to fix: the producer reads it")


class VerifyNote(Strict):
    note: Note | None = None


class Version(BaseModel):
    dataset: str
    version: int
    status: Status
    document: Document
    hash: str = Field(description="sha256 of the document as stored (jsonb text)")
    complete: bool
    missing: list[str] = Field(description="what a complete form still needs: "
                                           "'kegiatan.desain_sampel', 'measures.jumlah.definisi'")
    note: str | None
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class Published(BaseModel):
    """The dataset's verified metadata (the newest), or none yet."""

    dataset: str
    title: str
    published: Version | None
    held_version: int | None = Field(description="a newer version waiting for the walidata")
    complete: bool
    missing: list[str]
    labels: dict[str, str] = Field(description="the forms' Indonesian labels per field")


class Versions(Page[Version]):
    pass


class Overview(BaseModel):
    dataset: str
    title: str
    version: int | None
    held_version: int | None
    complete: bool
    missing: list[str]
    document: Document | None


class Overviews(BaseModel):
    items: list[Overview]
    count: int
    complete: int


FORMS: dict[str, tuple[type[BaseModel], dict[str, str]]] = {
    # form -> (model, {field: the form's Indonesian row label}) in the form's order
    "MS-Kegiatan": (Kegiatan, {
        "judul": "Judul kegiatan", "tahun": "Tahun kegiatan",
        "jenis_statistik": "Jenis statistik", "cara_pengumpulan": "Cara pengumpulan data",
        "sektor": "Sektor kegiatan", "penyelenggara": "Instansi penyelenggara",
        "walidata": "Walidata", "penanggung_jawab": "Penanggung jawab",
        "perencanaan": "Perencanaan dan persiapan", "desain": "Desain kegiatan",
        "desain_sampel": "Desain sampel", "penjaminan_kualitas": "Penjaminan kualitas",
        "pengolahan_analisis": "Pengolahan dan analisis", "diseminasi": "Diseminasi hasil"}),
    "MS-Variabel": (Variabel, {
        "nama": "Nama variabel", "alias": "Alias", "konsep": "Konsep", "definisi": "Definisi",
        "referensi_waktu": "Referensi waktu", "tipe_data": "Tipe data",
        "klasifikasi_isian": "Klasifikasi isian", "aturan_validasi": "Aturan validasi",
        "kalimat_pertanyaan": "Kalimat pertanyaan", "akses_umum": "Akses umum"}),
    "MS-Indikator": (Indikator, {
        "nama": "Nama indikator", "konsep": "Konsep", "definisi": "Definisi",
        "interpretasi": "Interpretasi", "metode_perhitungan": "Metode/rumus perhitungan",
        "rumus": "Rumus", "ukuran": "Ukuran", "satuan": "Satuan",
        "klasifikasi_penyajian": "Klasifikasi penyajian", "komposit": "Indikator komposit",
        "indikator_pembangun": "Indikator/variabel pembangun",
        "kegiatan_penghasil": "Kegiatan penghasil", "frekuensi": "Frekuensi penyajian",
        "level_estimasi": "Level estimasi terendah"}),
}
FORM_OF = {"variabel": "MS-Variabel", "indikator": "MS-Indikator"}

# what a complete form needs (the rest is optional: alias, validation rule, question wording,
# a formula where the method is words, the components of an indicator that is not composite)
REQUIRED: dict[str, tuple[str, ...]] = {
    "MS-Kegiatan": ("judul", "tahun", "cara_pengumpulan", "penyelenggara", "penanggung_jawab",
                    "perencanaan", "desain", "desain_sampel", "penjaminan_kualitas",
                    "pengolahan_analisis", "diseminasi"),
    "MS-Variabel": ("nama", "konsep", "definisi", "referensi_waktu", "tipe_data",
                    "akses_umum"),
    "MS-Indikator": ("nama", "konsep", "definisi", "interpretasi", "metode_perhitungan",
                     "ukuran", "satuan", "komposit", "frekuensi", "level_estimasi"),
}


def labels() -> dict[str, str]:
    return {f"{form}.{field}": label for form, (_, fields) in FORMS.items()
            for field, label in fields.items()}


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list)) and not value)
