; Paging (32-bit, no PAE): 4 KiB and 4 MiB pages, accessed/dirty bits as the CPU
; writes them back, U/S and R/W in PDE and PTE combined, CR0.WP on and off, #PF
; error codes, CR2 and the saved EIP (data, instruction fetch, stack, a page-
; crossing write, a REP STOSD stopped half-way), CR4.PSE off, INVLPG, CR3 reloads
; and CR4.PGE toggling making new translations visible, and code reached through
; paging: a store through an alias of a code page, a code PTE re-pointed.
;
; Only architecturally guaranteed effects are checked: after INVLPG/CR3/CR4 writes
; the new mapping must be used. Whether a stale translation is still used before
; them is left out — the TLB may drop entries at any time (and QEMU's does).
%include "lib.inc"

PD      equ 0x20000        ; page directory
PT0     equ 0x21000        ; identity map of 0..4 MiB (user, writable)
PT1     equ 0x22000        ; 0x400000..0x7FFFFF: the test pages
TESTLIN equ 0x400000
TESTPHY equ 0x100000

; PTE lin, value : set the PTE of a test page (in PT1)
%macro PTE 2
    mov dword [PT1 + ((%1 - TESTLIN) >> 12) * 4], %2
%endmacro
%macro SHOWPTE 2
    mov eax, [PT1 + ((%2 - TESTLIN) >> 12) * 4]
    and eax, 0xFFF
    SHOW %1, eax
%endmacro
%macro R3TRY 2+
    PRINT %1
    PRINT ": "
    mov dword [VAR_RESUME], %%fault
    %2
    mov dword [VAR_RESUME], 0
    PRINT `ok\n`
%%fault:
    mov esp, STACK3
%endmacro

test_main:
    ; page directory: PDE0 -> PT0 (identity 0..4 MiB, U/W), PDE1 -> PT1
    mov edi, PD
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PD], PT0 | 7
    mov dword [PD + 4], PT1 | 7
    mov edi, PT0
    mov eax, 7
    mov ecx, 1024
.id:
    stosd
    add eax, 0x1000
    loop .id
    ; test pages (phys TESTPHY + n*4K): 0 U/W, 1 U/RO, 2 S/W, 3 not present, 4 S/RO, 5 U/W
    PTE TESTLIN + 0x0000, (TESTPHY + 0x0000) | 7
    PTE TESTLIN + 0x1000, (TESTPHY + 0x1000) | 5
    PTE TESTLIN + 0x2000, (TESTPHY + 0x2000) | 3
    PTE TESTLIN + 0x3000, (TESTPHY + 0x3000) | 6
    PTE TESTLIN + 0x4000, (TESTPHY + 0x4000) | 1
    PTE TESTLIN + 0x5000, (TESTPHY + 0x5000) | 7
    mov dword [TESTPHY], 0x10101010
    mov dword [TESTPHY + 0x1000], 0x11111111
    mov dword [TESTPHY + 0x2000], 0x22222222
    mov dword [TESTPHY + 0x4000], 0x44444444
    mov dword [TESTPHY + 0x5000], 0x55555555
    mov eax, PD
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                               ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000                         ; PG (WP still clear)
    mov cr0, eax
    jmp .paged
.paged:
    PRINT `paging on\n`

    ; ---- accessed / dirty
    mov eax, [PD + 4]
    and eax, 0x3F                              ; bit 6 of a PDE that maps a table is ignored
    SHOW "pde1", eax
    SHOWPTE "pte0", TESTLIN
    NL
    mov eax, [TESTLIN]
    SHOW "read", eax
    mov eax, [PD + 4]
    and eax, 0x3F
    SHOW "pde1", eax
    SHOWPTE "pte0", TESTLIN
    NL
    mov dword [TESTLIN + 4], 0xA5A5A5A5
    SHOWPTE "written pte0", TESTLIN
    SHOW "phys", [TESTPHY + 4]
    NL
    ; a write to a page whose PTE is accessed but clean sets D
    PTE TESTLIN + 0x5000, (TESTPHY + 0x5000) | 0x27
    invlpg [TESTLIN + 0x5000]
    mov eax, [TESTLIN + 0x5000]
    SHOWPTE "pte5-read", TESTLIN + 0x5000
    mov byte [TESTLIN + 0x5000], 1
    SHOWPTE "pte5-write", TESTLIN + 0x5000
    NL

    ; ---- supervisor with WP=0 / WP=1
    TRY "s-write-ro-wp0", mov dword [TESTLIN + 0x1000], 0x1111AAAA
    SHOW "v", [TESTPHY + 0x1000]
    NL
    call wp_on
    TRY "s-write-ro-wp1", mov dword [TESTLIN + 0x1000], 0x1111BBBB
    TRY "s-write-sro-wp1", mov dword [TESTLIN + 0x4000], 0
    TRY "s-read-np", mov eax, [TESTLIN + 0x3000]
    TRY "s-write-np", mov dword [TESTLIN + 0x3008], 0
    TRY "s-read-unmapped-pde", mov eax, [0x00C01234]
    TRY "s-exec-np", call TESTLIN + 0x3000
    TRY "s-rep-stosd", call t_rep
    TRY "s-cross-page", call t_cross_s

    ; ---- user accesses
    mov dword [VAR_R3FLAGS], 0x3002
    mov eax, r3_tests
    call run_ring3

    ; ---- PDE permissions combine with PTE permissions
    or dword [PD + 4], 0                       ; (PT1 stays U/W)
    mov dword [PD + 4], PT1 | 3                ; PDE supervisor
    mov eax, cr3
    mov cr3, eax
    mov eax, r3_pde_s
    call run_ring3
    mov dword [PD + 4], PT1 | 5                ; PDE read-only, user
    mov eax, cr3
    mov cr3, eax
    mov eax, r3_pde_ro
    call run_ring3
    TRY "s-write-pde-ro-wp1", mov dword [TESTLIN], 1
    call wp_off
    TRY "s-write-pde-ro-wp0", mov dword [TESTLIN], 0x10101010
    mov dword [PD + 4], PT1 | 7
    mov eax, cr3
    mov cr3, eax

    ; ---- 4 MiB pages: 0x800000 and 0xC00000 both map physical 16 MiB
    mov dword [PD + 8], 0x1000000 | 0x87       ; PS, U, W, P
    mov dword [PD + 12], 0x1000000 | 0x85      ; PS, U, read-only
    mov dword [0x800000 + 0x123450], 0xCAFEF00D
    mov eax, [0xC00000 + 0x123450]
    SHOW "4m-alias", eax
    mov eax, [PD + 8]
    and eax, 0xFFF
    SHOW "pde2", eax
    mov eax, [PD + 12]
    and eax, 0xFFF
    SHOW "pde3", eax
    NL
    call wp_on
    TRY "4m-write-ro", mov dword [0xC00000], 0
    mov eax, r3_4m
    call run_ring3
    ; with CR4.PSE clear the PS bit is ignored: PDE 2 then points to a page table at
    ; physical 16 MiB, which is what the 4 MiB page showed at 0x800000. Fill it first:
    ; entry 0 not present, entry 1 -> TESTPHY.
    mov dword [0x800000], 0
    mov dword [0x800004], TESTPHY | 3
    mov eax, cr4
    and eax, ~0x10
    mov cr4, eax
    TRY "pse-off", mov eax, [0x800000]
    TRY "pse-off-table", call t_pse_table
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    SHOW "pse-on", [0x800004]
    NL

    ; ---- translation changes become visible after INVLPG / CR3 / CR4.PGE
    mov eax, [TESTLIN]                         ; make sure it is cached
    PTE TESTLIN, (TESTPHY + 0x2000) | 7
    invlpg [TESTLIN]
    SHOW "invlpg", [TESTLIN]
    PTE TESTLIN, (TESTPHY + 0x4000) | 7
    mov eax, cr3
    mov cr3, eax
    SHOW "cr3", [TESTLIN]
    ; a global page survives nothing it must not: after a CR4.PGE toggle it is re-read
    mov eax, cr4
    or eax, 0x80
    mov cr4, eax
    PTE TESTLIN, (TESTPHY + 0x5000) | 0x107
    invlpg [TESTLIN]
    mov eax, [TESTLIN]
    PTE TESTLIN, (TESTPHY + 0x0000) | 0x107
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    SHOW "pge", [TESTLIN]
    PTE TESTLIN, (TESTPHY + 0x1000) | 0x107
    mov eax, cr4
    or eax, 0x80
    mov cr4, eax
    invlpg [TESTLIN]                           ; INVLPG drops global entries too
    SHOW "invlpg-g", [TESTLIN]
    NL
    call t_code_alias
    mov eax, cr0
    SHOW "cr0", eax
    mov eax, cr4
    and eax, 0x9F                              ; VME PVI TSD DE PSE PGE
    SHOW "cr4", eax
    mov eax, cr3
    SHOW "cr3", eax
    NL
    ; paging off again, then a read through the identity map
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    jmp .unpaged
.unpaged:
    SHOW "unpaged", [TESTPHY + 0x1000]
    NL
    jmp finish

; Code through paging: two linear pages aliasing one physical page (a store through
; one must be seen when executing through the other), and a PTE re-pointed at other
; code (after INVLPG the new code runs).
CODE_A equ TESTLIN + 0x8000
CODE_B equ TESTLIN + 0x9000
CODE_C equ TESTLIN + 0xA000
t_code_alias:
    PTE CODE_A, (TESTPHY + 0x8000) | 3
    PTE CODE_B, (TESTPHY + 0x8000) | 3         ; same physical page
    PTE CODE_C, (TESTPHY + 0x9000) | 3
    invlpg [CODE_A]
    invlpg [CODE_B]
    invlpg [CODE_C]
    mov byte [CODE_A], 0xB8                    ; mov eax, imm32
    mov dword [CODE_A + 1], 0x0A0A0A0A
    mov byte [CODE_A + 5], 0xC3                ; ret
    mov byte [CODE_C], 0xB8
    mov dword [CODE_C + 1], 0x0C0C0C0C
    mov byte [CODE_C + 5], 0xC3
    call CODE_B
    SHOW "alias", eax
    mov dword [CODE_A + 1], 0x0B0B0B0B         ; patch through the other alias
    call CODE_B
    SHOW "alias-patched", eax
    PTE CODE_B, (TESTPHY + 0x9000) | 3         ; re-point B at C's code
    invlpg [CODE_B]
    call CODE_B
    SHOW "repointed", eax
    NL
    ret

wp_on:
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    ret
wp_off:
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax
    ret

t_rep:
    ; 8 dwords from 0x402FF0 (S/W): the fifth store hits the not-present page
    mov edi, TESTLIN + 0x2FF0
    mov ecx, 8
    mov eax, 0x77777777
    mov dword [VAR_RESUME], .f
    rep stosd
.f:
    SHOW "ecx", ecx
    SHOW "edi", edi
    SHOW "v", [TESTLIN + 0x2FFC]
    ret
t_cross_s:
    ; dword write at 0x404FFE (S/RO, WP=1) crossing into 0x405000 (U/W): faults on the
    ; first page; nothing is written on either side
    mov dword [VAR_RESUME], .f
    mov dword [TESTLIN + 0x4FFE], 0x12345678
.f:
    SHOW "v", [TESTLIN + 0x5000]
    ret
t_pse_table:
    mov eax, [0x801000]
    SHOW "v", eax
    ret

r3_tests:
    R3TRY "u-read-uw", mov eax, [TESTLIN]
    R3TRY "u-write-uw", mov dword [TESTLIN + 8], 0x12121212
    R3TRY "u-read-uro", mov eax, [TESTLIN + 0x1000]
    R3TRY "u-write-uro", mov dword [TESTLIN + 0x1000], 0
    R3TRY "u-read-s", mov eax, [TESTLIN + 0x2000]
    R3TRY "u-write-s", mov dword [TESTLIN + 0x2000], 0
    R3TRY "u-read-np", mov eax, [TESTLIN + 0x3000]
    R3TRY "u-write-np", mov dword [TESTLIN + 0x3000], 0
    R3TRY "u-exec-s", call TESTLIN + 0x2000
    R3TRY "u-push-ro", call r3_push_ro
    R3TRY "u-cross", mov dword [TESTLIN + 0xFFE], 0xABCDEF01
    R3TRY "u-cross-read", mov eax, [TESTLIN + 0x1FFE]
    SHOW "uw", [TESTLIN + 0xFFC]
    NL
    int 0x31
r3_push_ro:
    mov esp, TESTLIN + 0x1010
    push eax
    ret

r3_pde_s:
    R3TRY "pde-s-read", mov eax, [TESTLIN]
    R3TRY "pde-s-write", mov dword [TESTLIN], 0
    int 0x31
r3_pde_ro:
    R3TRY "pde-ro-read", mov eax, [TESTLIN]
    R3TRY "pde-ro-write", mov dword [TESTLIN], 0
    int 0x31
r3_4m:
    R3TRY "4m-u-read", mov eax, [0xC00000]
    R3TRY "4m-u-write", mov dword [0xC00000], 0
    R3TRY "4m-u-write-rw", mov dword [0x800004], 0x4444
    int 0x31

%include "end.inc"
