// A 512-byte boot sector for the snapshot tests (assembled with nasm from the source below).
// Every 4 timer ticks it increments a counter, writes "CNT" + the counter (u16 LE) to disk
// sector LBA 1 with int 13h and prints "T" + 4 hex digits + "\n" on COM1: a restored
// machine continues the count where the snapshot was taken; a cold boot starts again at 1.
//
//   ; ticker.asm - boot sector for the snapshot tests: every 4 timer ticks (~0.22 s) it
//   ; increments a counter, writes it to disk sector LBA 1 (int 13h) and prints "T" + 4 hex
//   ; digits + "\n" on COM1. A restored machine continues the count; a cold boot restarts at 1.
//           cpu     8086
//           bits    16
//           org     0x7c00
//   start:  cli
//           xor     ax, ax
//           mov     ds, ax
//           mov     es, ax
//           mov     ss, ax
//           mov     sp, 0x7c00
//           mov     [drive], dl
//           mov     word [count], 0
//           sti
//   .wait:  hlt
//           inc     byte [ticks]
//           test    byte [ticks], 3
//           jnz     .wait
//           inc     word [count]
//           ; sector buffer at 0x600: "CNT" + count
//           mov     di, 0x600
//           mov     word [di], 'CN'
//           mov     byte [di+2], 'T'
//           mov     ax, [count]
//           mov     [di+3], ax
//           mov     ax, 0x0301              ; write 1 sector
//           mov     cx, 0x0002              ; cylinder 0, sector 2 (LBA 1)
//           xor     dh, dh
//           mov     dl, [drive]
//           mov     bx, 0x600
//           int     0x13
//           mov     al, 'T'
//           call    putc
//           mov     ax, [count]
//           mov     cl, 4
//   .hex:   rol     ax, 1
//           rol     ax, 1
//           rol     ax, 1
//           rol     ax, 1
//           push    ax
//           and     al, 0x0f
//           add     al, '0'
//           cmp     al, '9'
//           jbe     .dig
//           add     al, 7
//   .dig:   call    putc
//           pop     ax
//           dec     cl
//           jnz     .hex
//           mov     al, 10
//           call    putc
//           jmp     .wait
//   putc:   push    dx
//           push    ax
//           mov     dx, 0x3fd
//   .busy:  in      al, dx
//           test    al, 0x20
//           jz      .busy
//           pop     ax
//           mov     dx, 0x3f8
//           out     dx, al
//           pop     dx
//           ret
//   drive   equ     0x500
//   ticks   equ     0x502
//   count   equ     0x504
//           times   510-($-$$) db 0
//           dw      0xaa55
export const TICKER_BOOT_SECTOR_BASE64 =
  '+jHAjtiOwI7QvAB8iBYABccGBAUAAPv0/gYCBfYGAgUDdfT/BgQFvwAGxwVDTsZFAlShBAWJRQO4AQO5AgAw9ooWAAW7AAbNE7BU6CcAoQQFsQTRwNHA0cDRwFAkDwQwPDl2AgQH6AwAWP7JdeWwCugCAOuiUlC6/QPsqCB0+1i6+APuWsMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAVao=';

export const tickerBootSector = (): Uint8Array => new Uint8Array(Buffer.from(TICKER_BOOT_SECTOR_BASE64, 'base64'));
